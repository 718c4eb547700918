class DonationError(Exception):
    """A domain error with a message fit for the person who caused it."""
