"""One base for the errors our code raises on purpose (HackSoft's `ApplicationError`).

A service raises a subclass with a message a reader may see and, in `extra`, the ids an
operator needs (never an address or token). `newsroom.error_responses` maps each kind to a
response in one place: a page for people, JSON for machine callers, a status and, for errors
that pass, `Retry-After`. Celery's task base retries `TransientError` with backoff.
"""

from __future__ import annotations

from collections.abc import Mapping


class ApplicationError(Exception):
    """A domain error: `message` is fit for the person who caused it."""

    status = 400
    retry_after: int | None = None  # seconds, sent as `Retry-After` when set
    default_message = "Something in this request could not be done."

    def __init__(self, message: str = "", *, extra: Mapping[str, object] | None = None) -> None:
        self.message = message or self.default_message
        self.extra = dict(extra or {})
        super().__init__(self.message)


class InvalidInput(ApplicationError):
    """The request asked for something that cannot be done as asked."""


class InvalidLink(ApplicationError):
    """A signed link was forged, altered, made for another purpose, or names nothing."""

    default_message = "This link is not valid."


class ExpiredLink(InvalidLink):
    """A signed link that was genuine but is past its lifetime."""

    default_message = "This link has expired."


class CrossSiteRequest(ApplicationError):
    """A form posted from another website's page (`newsroom.same_origin`)."""

    status = 403
    default_message = (
        "This form was sent from another website, so we did nothing with it. "
        "Please use the form on our own page."
    )


class RateLimited(ApplicationError):
    """Too many requests from one client (or for one address) in a short time."""

    status = 429
    retry_after = 300
    default_message = "We received several requests in a short time. Please try again later."


class TransientError(ApplicationError):
    """A service we depend on failed for now (timeout, outage, 4xx-temporary): retrying helps.

    Tasks retry it with backoff; a page answers 503 with `Retry-After`.
    """

    status = 503
    retry_after = 30
    default_message = "This is briefly unavailable. Nothing was changed; please try again."


class RetryLater(TransientError):
    """An incoming event names something not recorded yet (events arrive in any order): the
    sender is answered 5xx, nothing of the event is kept, and it sends the event again."""

    retry_after = 60
