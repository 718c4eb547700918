from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Any

from django import template
from django.template.loader import render_to_string
from django.urls import reverse

from donations import frequencies
from donations.banner import BANNER_TEMPLATE, banner_context, page_view_banner
from newsroom.fragments import per_view

register = template.Library()


@cache
def banner_urls() -> dict[str, str]:
    """The banner's form targets, reversed once per process (the article page renders them on
    every view; `reverse` is a good part of its template time)."""
    return {name: reverse(f"donations:{name}") for name in ("support", "checkout", "remind_me")}


@register.simple_tag
def frequency_adverbs() -> str:
    """ "once, monthly or annually", from the frequencies table."""
    return frequencies.adverbs()


@register.simple_tag(takes_context=True)
@per_view("support_banner")
def support_banner(context: Mapping[str, Any]) -> str:
    """The support banner a news site puts under every article: the live appeal (or this
    browser's variant of it), hidden where `donations.banner` says. Under an article it comes
    from a fragment rendered once (`page_view_banner`); a re-rendered form and the /support/
    page render the template."""
    request = context.get("request")
    standalone = bool(context.get("support_page"))
    form, choice = context.get("support_form"), context.get("support_choice")
    extra = {
        "urls": banner_urls(),
        "request": request,
        "standalone": standalone,
    }
    if request is not None and not standalone and form is None and choice is None:
        return page_view_banner(request, extra)
    return render_to_string(
        BANNER_TEMPLATE,
        {**banner_context(request, form, choice, standalone=standalone), **extra},
    )
