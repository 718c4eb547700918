from __future__ import annotations

from newsroom.task_base import task


@task(name="newsroom.tasks.ping", ignore_result=False)
def ping(token: str) -> str:
    """Round trip through broker, worker and result backend; used by tests and operators."""
    return f"pong:{token}"
