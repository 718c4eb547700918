from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import template

from newsroom.fragments import FragmentCache, per_view, render_fragment

register = template.Library()

SIGNUP_BOX_TEMPLATE = "newsletter/_signup_box.html"
_fragments = FragmentCache()


@register.simple_tag(takes_context=True)
@per_view("newsletter_box")
def newsletter_signup_box(context: Mapping[str, Any]) -> str:
    """The newsletter sign-up box a news site puts on every article page.

    The form records the page it sits on (`source`) with the reader's consent. It is the same
    for every reader but for that page (it carries no CSRF token: `newsroom.same_origin`), so
    it is rendered once per process and filled in per view (`newsroom.fragments`).
    """
    request = context.get("request")
    box = {"request": request, "source": getattr(request, "path", "")}
    fragment = _fragments.get(None, "box", lambda: render_fragment(
        SIGNUP_BOX_TEMPLATE, box, ("source",)
    ))  # fmt: skip
    return fragment.fill(box)
