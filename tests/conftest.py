from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from importlib import import_module
from typing import Any

import pytest
from django.test import override_settings

from donations.standin import StripeStandin
from tests.celery_worker import WorkerProcess, purge_queues
from tests.dkim_keys import dkim_setup  # noqa: F401  (a fixture, for every test module)
from tests.services import need_chromium, need_redis
from tests.smtp_server import SMTPServer


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """A real SMTP server on loopback; Django's email goes to it for the test's duration."""
    server = SMTPServer().start()
    try:
        with override_settings(
            EMAIL_BACKEND="newsroom.smtp.backend.SMTPBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=server.port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
        ):
            yield server
    finally:
        server.stop()


@pytest.fixture
def empty_cache() -> Iterator[None]:
    """Rate-limit and mail-quota counts live in the (shared) cache: start and end with none."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def celery_worker_process() -> Iterator[type[WorkerProcess]]:
    """Start real worker processes on the real Redis broker; they are stopped afterwards.

    Usage: `worker = celery_worker_process(concurrency=2).start()`.
    """
    need_redis()
    from newsroom.celery_app import app

    started: list[WorkerProcess] = []

    class TrackedWorker(WorkerProcess):
        def start(self, *, wait: bool = True) -> WorkerProcess:
            started.append(self)
            return super().start(wait=wait)

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = False
    purge_queues()
    try:
        yield TrackedWorker
    finally:
        app.conf.task_always_eager = eager
        for worker in started:
            worker.stop()
        purge_queues()


@contextlib.contextmanager
def _async_unsafe_removed_after() -> Iterator[None]:
    try:
        yield
    finally:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture(scope="module")
def chromium_browser() -> Iterator[object]:
    """Debian's chromium driven by Playwright (Playwright's own browser download fails here)."""
    executable = need_chromium()
    # Playwright's sync API keeps an event loop in this thread; Django's ORM is not async here.
    # Module scope, and the variable removed afterwards: later tests (and the subprocesses they
    # start, e.g. `manage.py check --deploy`) must not inherit it.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with _async_unsafe_removed_after(), sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable,
            headless=True,
            args=[
                "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
            ],
        )  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def page(chromium_browser: object, live_server: object) -> Iterator[object]:
    from playwright.sync_api import Browser

    assert isinstance(chromium_browser, Browser)
    context = chromium_browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


@pytest.fixture
def stripe_standin() -> Iterator[StripeStandin]:
    """A local Stripe (donations/standin) on port 0; STRIPE_API_BASE points at it.

    Events are kept in memory (`stripe_standin.events()`, exact bytes in `.event_payloads()`);
    set `stripe_standin.webhook_url` (or use `stripe_standin_webhooks`) to have them POSTed.
    """
    from django.conf import settings

    standin = StripeStandin(webhook_secret=settings.STRIPE_WEBHOOK_SECRET).start()
    try:
        with override_settings(STRIPE_API_BASE=standin.url):
            yield standin
    finally:
        standin.stop()


@pytest.fixture
def stripe_standin_webhooks(stripe_standin: StripeStandin, live_server: Any) -> StripeStandin:
    """The stand-in POSTing signed events to the live server's `/stripe/webhook/`.

    After an action, `stripe_standin.wait_for_webhooks()` blocks until every event is delivered.
    """
    stripe_standin.webhook_url = f"{live_server.url}/stripe/webhook/"
    return stripe_standin


@pytest.fixture(autouse=True)
def _fresh_live_appeal(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test reads the live appeal from its own database state, not an earlier test's
    copy kept by this process (tests roll back, so no edit's on-commit bump ever fires).

    A transactional test starts from tables emptied by the one before, without the rows data
    migrations made; the first appeal (migration appeals 0002) is made again for it, as every
    real database has it."""
    from donations.appeals.config import forget_process_copy

    forget_process_copy()
    marker = request.node.get_closest_marker("django_db")
    if marker is not None and marker.kwargs.get("transaction"):
        request.getfixturevalue("transactional_db")
        seed_first_appeal()
    yield
    forget_process_copy()


def seed_first_appeal() -> None:
    from django.apps import apps

    migration = import_module("donations.appeals.migrations.0002_live_appeal_from_presets")

    class Registry:
        """The current models, and no AmountPreset rows (that table is gone)."""

        def get_model(self, app: str, name: str) -> Any:
            if name == "AmountPreset":
                return type("NoPresets", (), {"objects": type("M", (), {"all": list})()})
            return apps.get_model(app, name)

    migration.create_live_appeal(Registry(), None)
