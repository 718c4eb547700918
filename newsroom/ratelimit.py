"""Per-client keys for django-ratelimit, behind `PROXY_COUNT` trusted proxies.

django-ratelimit hashes keys before they reach the cache, so no address is stored in clear.
Use as `@ratelimit(key="newsroom.ratelimit.client_key", rate="10/h", block=False)`.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_address(request: HttpRequest) -> str:
    proxies: int = settings.AXES_IPWARE_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return str(request.META.get("REMOTE_ADDR", ""))


def client_key(group: str, request: HttpRequest) -> str:
    return client_address(request)
