"""Celery discovers `newsletter.tasks`; each module below registers its tasks on import."""

# Each engineer adds one import line for their module, e.g.:
# from newsletter.tasks import subscribers, sending
from newsletter.tasks import bounces, sending, subscribers  # noqa: F401
