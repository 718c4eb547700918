"""The bench's own database: created and dropped by the bench, filled with N subscribers."""

from __future__ import annotations

import sys
from typing import Any
from urllib.parse import urlsplit, urlunsplit


def bench_database_url(url: str) -> tuple[str, str, str]:
    """(the bench database's URL, the server's admin URL, the bench database's name)."""
    parts = urlsplit(url)
    if not parts.scheme.startswith("postgres"):
        sys.exit("DATABASE_URL must be PostgreSQL (the send relies on its row locks)")
    name = parts.path.lstrip("/")
    if not name.endswith("_bench"):
        name += "_bench"
    admin = urlunsplit(parts._replace(path="/postgres"))
    return urlunsplit(parts._replace(path=f"/{name}")), admin, name


def recreate_database(admin_url: str, name: str, *, drop_only: bool = False) -> None:
    import psycopg

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def fill_subscribers(count: int) -> None:
    """N active subscribers, nothing else; then VACUUM ANALYZE (autovacuum is off here)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE newsletter_issue, newsletter_subscriber CASCADE"  # ledger, items, events
        )
        cursor.execute(
            "INSERT INTO newsletter_subscriber (created_at, updated_at, email, status, source, "
            "consent_policy_version, consent_source, consent_at, confirmed_at) "
            "SELECT now(), now(), 'reader' || n || '@example.org', 'active', 'bench', 'bench', "
            "'bench', now(), now() FROM generate_series(1, %s) AS n",
            [count],
        )
    vacuum("newsletter_subscriber")


def vacuum(*tables: str) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"VACUUM ANALYZE {table}")


def make_issue(subject: str) -> Any:
    from newsletter.demo import DEMO_INTRO, DEMO_ITEMS
    from newsletter.models import Issue, IssueItem

    issue = Issue.objects.create(subject=subject, preheader="Bench", intro=DEMO_INTRO)
    IssueItem.objects.bulk_create(
        IssueItem(issue=issue, section=s, title=t, url=f"https://news.example.org/{slug}/",
                  summary=summary, position=n)
        for n, (s, t, slug, summary) in enumerate(DEMO_ITEMS)
    )  # fmt: skip
    return issue


def one_message_bytes() -> bytes:
    """One subscriber's message exactly as the send builds it: the bare loop's payload."""
    from django.core.mail import get_connection

    from newsletter.rendering import render_issue
    from newsletter.sending.messages import MessageFactory

    issue = make_issue("Bare loop")
    factory = MessageFactory(issue=issue, rendered=render_issue(issue), connection=get_connection())
    data = factory.build(subscriber_id=1, email="reader1@example.org", show_ask=True).message()
    issue.delete()
    return data.as_bytes(linesep="\r\n")


def send_outcome(issue_id: int, *, since: Any = None) -> dict[str, Any]:
    """Counts of the finished send, and (after a kill) what was sent after `since`."""
    from django.db.models import Count, Max, Q

    from newsletter.models import Delivery

    rows = Delivery.objects.filter(issue_id=issue_id)
    extra = {"after": Count("id", filter=Q(sent_at__gte=since))} if since else {}
    return rows.aggregate(
        sent=Count("id", filter=Q(status="sent")),
        failed=Count("id", filter=Q(status="failed")),
        queued=Count("id", filter=Q(status="queued")),
        last=Max("sent_at"),
        **extra,
    )
