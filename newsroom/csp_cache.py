"""django-csp's middleware, with the site's own policy header built once per process.

Almost every response carries `CONTENT_SECURITY_POLICY` unchanged: no view asked for its own
(`_csp_update`, `_csp_replace`, `_csp_config` and their report-only twins) and no nonce was
drawn. django-csp builds that same header anew for each of them, which cost the article page
more CPU than its Redis round trip. Here such a response gets the header built once (rebuilt
when a test changes the setting); any other, and every response while a report-only policy
is configured, goes through django-csp unchanged.
"""

from __future__ import annotations

import threading
from typing import Any

from csp.constants import HEADER
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase

OWN_POLICY = tuple(
    f"_csp_{kind}{twin}" for kind in ("config", "update", "replace") for twin in ("", "_ro")
)
_built: dict[bool, str] = {}  # report_only -> header value
_lock = threading.Lock()


def site_policy(*, report_only: bool) -> str:
    found = _built.get(report_only)
    if found is None:
        with _lock:
            found = _built[report_only] = build_policy(report_only=report_only)
    return found


@receiver(setting_changed)
def _forget_policy(*, setting: str, **_: Any) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _built.clear()


class SitePolicyCSPMiddleware(CSPMiddleware):
    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        own = any(getattr(response, name, None) is not None for name in OWN_POLICY)
        nonce = getattr(request, "_csp_nonce", None) is not None
        report_only = site_policy(report_only=True)  # none here; django-csp handles one
        if own or nonce or report_only or settings.DEBUG:
            return super().process_response(request, response)
        policy = site_policy(report_only=False)
        if policy and HEADER not in response and not getattr(response, "_csp_exempt", False):
            prefixes = settings.CONTENT_SECURITY_POLICY.get("EXCLUDE_URL_PREFIXES") or ()
            if not request.path_info.startswith(tuple(prefixes)):
                response[HEADER] = policy
        # As django-csp does: a nonce asked for after the header was written is an error.
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # type: ignore[attr-defined]
        return response
