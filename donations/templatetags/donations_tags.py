from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("donations/_support_banner.html", takes_context=True)
def support_banner(context: template.Context) -> dict[str, object]:
    """The support banner a news site puts under every article."""
    return {"request": context.get("request"), "csrf_token": context.get("csrf_token")}
