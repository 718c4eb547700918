from __future__ import annotations

from django import template

from donations.banner import banner_context

register = template.Library()


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
