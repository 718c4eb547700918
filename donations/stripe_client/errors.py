"""Errors of the Stripe boundary, all `ApplicationError`s (mapped to responses in one place)."""

from __future__ import annotations

from newsroom.errors import ApplicationError, TransientError


class StripeProblem(ApplicationError):
    """Base for errors from the Stripe boundary. Its detail goes to `extra`, for logs."""

    default_message = "Our payment provider did not answer as expected. Nothing was charged."


class StripeUnavailable(StripeProblem, TransientError):
    """Stripe could not be reached, did not answer in time or failed on its side: retrying
    later may help."""

    retry_after = 60
    default_message = (
        "Payments are briefly unavailable. Nothing was charged. Please try again in a minute."
    )


class StripeRefused(StripeProblem):
    """Stripe refused the request (a 4xx): retrying the same request will not help."""

    def __init__(self, detail: str, *, code: str = "") -> None:
        super().__init__(extra={"stripe_error": detail, "stripe_code": code})
        self.code = code


class InvalidSignature(StripeProblem):
    """A webhook payload whose `Stripe-Signature` is missing, wrong or too old."""

    default_message = "invalid signature"


class MalformedObject(StripeProblem):
    """A Stripe event or object without a field we need, or with one of the wrong type or out
    of range. `extra` names the field (and the event, when its id could be read)."""

    default_message = "malformed Stripe object"
