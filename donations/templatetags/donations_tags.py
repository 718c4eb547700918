from __future__ import annotations

from django import template

from donations.banner import banner_context

register = template.Library()


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
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "standalone": standalone,
    }
