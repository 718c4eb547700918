"""Celery discovers `newsletter.tasks`; each module below registers its tasks on import."""

from newsletter.tasks import bounces, sending, subscribers  # noqa: F401
