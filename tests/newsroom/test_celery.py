from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.test import override_settings

from newsroom.celery_app import app, weekly_send_schedule
from newsroom.tasks import ping
from tests.celery_worker import WorkerProcess


@pytest.mark.celery_worker
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_task_through_the_redis_broker(
    celery_worker_process: type[WorkerProcess],
) -> None:
    celery_worker_process().start()
    token = uuid.uuid4().hex
    assert ping.delay(token).get(timeout=30) == f"pong:{token}"


def test_beat_schedule_defines_the_weekly_send_and_the_periodic_jobs() -> None:
    app.finalize()
    schedule = app.conf.beat_schedule
    assert schedule["newsletter-weekly-send"]["task"] == "newsletter.tasks.send_weekly_issue"
    assert schedule["donations-send-due-reminders"]["task"] == "donations.tasks.send_due_reminders"
    assert schedule["newsletter-sweep-deliveries"]["task"] == "newsletter.tasks.sweep_deliveries"


def test_celery_reads_schedules_in_the_newsrooms_time_zone() -> None:
    assert app.conf.timezone == settings.TIME_ZONE


@pytest.fixture
def berlin_newsroom() -> Iterator[None]:
    """TIME_ZONE=Europe/Berlin, NEWSLETTER_SEND_TIME=07:30, as the settings would give."""
    original = app.conf.timezone
    with override_settings(
        NEWSLETTER_SEND_DAY="fri", NEWSLETTER_SEND_TIME="07:30", TIME_ZONE="Europe/Berlin"
    ):
        app.conf.update(timezone="Europe/Berlin")
        app.__dict__.pop("timezone", None)  # Celery caches the zone it read
        try:
            yield
        finally:
            app.conf.update(timezone=original)
            app.__dict__.pop("timezone", None)


@pytest.mark.usefixtures("berlin_newsroom")
def test_weekly_send_is_due_on_friday_at_the_configured_time_in_the_configured_zone() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    last_friday = datetime(2026, 11, 20, 7, 30, tzinfo=berlin)
    schedule = weekly_send_schedule()

    with time_machine.travel(datetime(2026, 11, 27, 7, 29, tzinfo=berlin), tick=False):
        due, next_in = schedule.is_due(last_friday)
        assert not due
        assert next_in == pytest.approx(60, abs=1)
    with time_machine.travel(datetime(2026, 11, 27, 7, 30, 5, tzinfo=berlin), tick=False):
        assert schedule.is_due(last_friday)[0]
    # 07:30 in Berlin is 06:30 UTC in winter: a UTC 07:30 would be an hour late.
    with time_machine.travel(datetime(2026, 11, 27, 6, 30, 5, tzinfo=ZoneInfo("UTC")), tick=False):
        assert schedule.is_due(last_friday)[0]
    with time_machine.travel(datetime(2026, 11, 26, 7, 30, 5, tzinfo=berlin), tick=False):
        due, next_in = schedule.is_due(last_friday)
        assert not due
        assert next_in == pytest.approx(timedelta(days=1).total_seconds(), abs=10)


def test_beat_entry_from_env_is_friday_at_the_send_time_in_the_zone() -> None:
    """The real schedule, built from env as a deployment would: not a hand-made crontab."""
    code = (
        "import django; django.setup()\n"
        "from newsroom.celery_app import app\n"
        "app.finalize()\n"
        "s = app.conf.beat_schedule['newsletter-weekly-send']['schedule']\n"
        "print(sorted(s.day_of_week), sorted(s.hour), sorted(s.minute), s.tz)\n"
    )
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "VAR_DIR", "NEWSLETTER_SEND_DAY"}
    }
    env.update(
        DEBUG="true",
        DJANGO_SETTINGS_MODULE="newsroom.settings",
        TIME_ZONE="Europe/Berlin",
        NEWSLETTER_SEND_TIME="07:30",
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[2],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[-2] == "[5] [7] [30] Europe/Berlin"  # Friday is day 5
