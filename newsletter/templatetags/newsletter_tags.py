from __future__ import annotations

from django import template

register = template.Library()


@register.inclusion_tag("newsletter/_signup_box.html", takes_context=True)
def newsletter_signup_box(context: template.Context) -> dict[str, object]:
    """The newsletter sign-up box a news site puts on every article page.

    The form records the page it sits on (`source`) with the reader's consent.
    """
    request = context.get("request")
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "source": getattr(request, "path", ""),
    }
