"""The donations app's domain errors (all `newsroom.errors.ApplicationError`s)."""

from newsroom.errors import ApplicationError, RetryLater

__all__ = ["DonationError", "RetryLater"]


class DonationError(ApplicationError):
    """A donation request that cannot be done as asked; the message is for the reader."""
