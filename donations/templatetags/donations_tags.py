from __future__ import annotations

from functools import cache

from django import template
from django.urls import reverse

from donations import frequencies
from donations.banner import banner_context

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


@register.inclusion_tag("donations/_support_banner.html", takes_context=True)
def support_banner(context: template.Context) -> dict[str, object]:
    """The support banner a news site puts under every article: the live appeal (or this
    browser's variant of it), hidden where `donations.banner` says."""
    request = context.get("request")
    standalone = bool(context.get("support_page"))
    return {
        **banner_context(
            request,
            context.get("support_form"),
            context.get("support_choice"),
            standalone=standalone,
        ),
        "urls": banner_urls(),
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "standalone": standalone,
    }
