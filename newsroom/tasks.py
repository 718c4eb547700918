from __future__ import annotations

from celery import shared_task


@shared_task(name="newsroom.tasks.ping", ignore_result=False)
def ping(token: str) -> str:
    """Round trip through broker, worker and result backend; used by tests and operators."""
    return f"pong:{token}"
