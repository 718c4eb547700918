class DonationError(Exception):
    """A domain error with a message fit for the person who caused it."""


class RetryLater(Exception):
    """A Stripe event names something we have not recorded yet (events arrive in any order):
    the webhook answers 5xx, nothing of the event is kept, and Stripe sends it again."""
