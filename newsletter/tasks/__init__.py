"""Celery discovers `newsletter.tasks`; each module below registers its tasks on import."""

from newsletter.tasks import sending, subscribers  # noqa: F401
