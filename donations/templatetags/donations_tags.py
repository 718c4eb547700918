from __future__ import annotations

from django import template

from donations import frequencies
from donations.banner import banner_context

register = template.Library()


@register.simple_tag
def frequency_adverbs() -> str:
    """ "once, monthly or annually", from the frequencies table."""
    return frequencies.adverbs()


@register.inclusion_tag("donations/_support_banner.html", takes_context=True)
def support_banner(context: template.Context) -> dict[str, object]:
    """The support banner a news site puts under every article (hidden for a while after the
    reader asked to be reminded later)."""
    request = context.get("request")
    return {
        **banner_context(request, context.get("support_form"), context.get("support_choice")),
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "standalone": bool(context.get("support_page")),
    }
