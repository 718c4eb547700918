"""The Celery app and the beat schedule, defined in this one place.

Run exactly one `celery beat` per deployment; the tasks it triggers are claimed in the
database, so a second beat or a re-delivered message does no harm anyway.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from functools import cached_property
from pathlib import Path
from typing import Any

from celery import Celery
from celery.schedules import crontab
from django.conf import settings

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "newsroom.settings")


class DjangoCelerySettings(Mapping[str, Any]):
    """The `CELERY_*` Django settings under Celery's own names (`CELERY_TASK_SERIALIZER` ->
    `task_serializer`), read once, when Celery first asks. Celery looks a dozen settings up for
    every message it sends; read through Django's lazy settings under the `CELERY` namespace,
    each lookup tried several names and most missed with an exception: a third of the CPU of
    queueing a receipt (1.2 ms). Being read once, a `CELERY_*` setting changed later (tests'
    `override_settings`) does not reach Celery: set `app.conf` for that."""

    PREFIX = "CELERY_"

    @cached_property
    def _values(self) -> dict[str, Any]:
        names = (name for name in dir(settings) if name.startswith(self.PREFIX))
        return {name.removeprefix(self.PREFIX).lower(): getattr(settings, name) for name in names}

    def __getitem__(self, key: str) -> Any:
        return self._values[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)


app = Celery("newsroom", task_cls="newsroom.task_base:Task")
app.config_from_object(DjangoCelerySettings())
app.autodiscover_tasks()


@app.on_after_configure.connect
def make_filesystem_broker_folders(sender: Celery, **_: object) -> None:
    """The embedded (filesystem) broker needs its folders; Redis needs nothing."""
    options = sender.conf.broker_transport_options or {}
    for key in ("data_folder_in", "data_folder_out", "processed_folder", "control_folder"):
        if key in options:
            Path(options[key]).mkdir(parents=True, exist_ok=True)


def weekly_send_schedule() -> crontab:
    """Every `NEWSLETTER_SEND_DAY` at `NEWSLETTER_SEND_TIME`, in the app's zone (`TIME_ZONE`)."""
    hour, minute = settings.NEWSLETTER_SEND_TIME.split(":")
    return crontab(
        minute=int(minute),
        hour=int(hour),
        day_of_week=settings.NEWSLETTER_SEND_DAY,
        app=app,
    )


@app.on_after_finalize.connect
def setup_beat_schedule(sender: Celery, **_: object) -> None:
    sender.conf.beat_schedule = {
        "newsletter-weekly-send": {
            "task": "newsletter.tasks.send_weekly_issue",
            "schedule": weekly_send_schedule(),
        },
        "newsletter-sweep-deliveries": {
            "task": "newsletter.tasks.sweep_deliveries",
            "schedule": settings.NEWSLETTER_SWEEP_SECONDS,
        },
        "donations-send-due-reminders": {
            "task": "donations.tasks.send_due_reminders",
            "schedule": crontab(minute="*/15", app=app),
        },
        "donations-enforce-retention": {
            "task": "donations.tasks.enforce_retention",
            "schedule": crontab(minute=17, hour=3, app=app),
        },
        "donations-sweep-unsent-emails": {
            "task": "donations.tasks.sweep_unsent_emails",
            "schedule": 300.0,
        },
        "appeals-fold-counters": {
            "task": "appeals.tasks.fold_counters",
            "schedule": settings.APPEAL_FOLD_SECONDS,
        },
    }
    if settings.BOUNCE_IMAP_URL:
        sender.conf.beat_schedule["newsletter-read-bounce-mailbox"] = {
            "task": "newsletter.tasks.read_bounce_mailbox",
            "schedule": float(settings.BOUNCE_IMAP_INTERVAL),
        }
