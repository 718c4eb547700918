"""The appeal's Celery tasks, for Celery's autodiscovery (defined beside their services)."""

from donations.appeals.services.counting import fold_counters

__all__ = ["fold_counters"]
