"""Per-client rate limits, written once: `@rate_limited("checkout", rate=lambda: settings.X)`.

Keys are the client's address (`newsroom.client_ip`), hashed by django-ratelimit before they
reach the cache, so no address is stored in clear. A limited request raises `RateLimited`
(a 429 page with `Retry-After`, see `newsroom.error_responses`). When the cache (Redis) cannot
be reached the check lets the request through and logs it: an outage of the limiter must not
become an outage of the site.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.http import HttpRequest, HttpResponse
from django_ratelimit.core import is_ratelimited
from redis.exceptions import RedisError

from newsroom.client_ip import client_ip
from newsroom.errors import RateLimited

logger = logging.getLogger(__name__)

View = TypeVar("View", bound=Callable[..., HttpResponse])
Rate = str | Callable[[], str]


def client_key(group: str, request: HttpRequest) -> str:
    return client_ip(request)


def limited(request: HttpRequest, *, group: str, rate: Rate) -> bool:
    """Count this request against `group` and say whether the client is over `rate`."""
    try:
        return is_ratelimited(
            request,
            group=group,
            key=client_key,
            rate=rate() if callable(rate) else rate,
            increment=True,
        )
    except (RedisError, OSError) as error:
        logger.warning(
            "rate limit not checked: cache unreachable",
            extra={"group": group, "error": type(error).__name__},
        )
        return False


def rate_limited(
    group: str, *, rate: Rate, methods: Iterable[str] = ("POST",)
) -> Callable[[View], View]:
    """Refuse a client that sends more than `rate` requests of `methods` to views of `group`."""
    counted = frozenset(method.upper() for method in methods)

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
            if request.method in counted and limited(request, group=group, rate=rate):
                raise RateLimited(extra={"group": group})
            return view(request, *args, **kwargs)

        return wrapper  # type: ignore[return-value]

    return decorate
