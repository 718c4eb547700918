from __future__ import annotations

from django.utils.html import format_html
from django.utils.safestring import SafeString

from donations.stripe_client import dashboard_url


def stripe_link(object_id: str | None, *, livemode: bool | None = None) -> SafeString | str:
    if not object_id:
        return "—"
    url = dashboard_url(object_id, livemode=livemode)
    return format_html('<a href="{}" rel="noreferrer" target="_blank">{}</a>', url, object_id)
