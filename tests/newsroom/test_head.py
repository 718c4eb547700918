"""Every public page answers HEAD as it answers GET (uptime monitors and link checkers use it),
and a HEAD on a link that acts when POSTed changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from donations.links import manage_url, reminder_stop_url
from donations.models import Reminder
from donations.services.reminders import reminder_create
from newsletter.models import Subscriber
from newsletter.tokens import confirm_url, issue_preview_url, unsubscribe_url
from tests.donations.factories import DonationFactory, make_donor
from tests.newsletter.factories import IssueFactory, SubscriberFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]

# Endpoints that only take a POST (forms' targets, webhooks), not pages anybody opens.
POST_ONLY = {
    "donations:checkout", "donations:remind_me", "donations:stripe_webhook",
    # the donor's page: changes, card, delete, a fresh link (each POST, with a confirmation)
    "donations:manage_renew", "donations:donor_card", "donations:donor_gift_action",
    "donations:donor_data_delete",
}  # fmt: skip
# Namespaces that are not the site's public pages: the staff admin and anymail's webhooks.
NOT_PUBLIC_NAMESPACES = ("admin", "anymail")


def _local(url: str) -> str:
    return url.removeprefix("http://testserver")


def public_urls() -> dict[str, str]:
    """One real address for every public page, tokens made as the site makes them."""
    pending = SubscriberFactory.create(email="pending@example.org", status="pending")
    active = SubscriberFactory.create(email="active@example.org")
    sent = IssueFactory.create(sent=True)
    draft = IssueFactory.create()
    reminder = reminder_create(email="later@example.org")
    assert reminder is not None
    payment = DonationFactory.create(paid_at=datetime(2026, 3, 1, tzinfo=UTC))
    assert payment.donor is not None
    donor_page = _local(manage_url(donor_id=payment.donor.pk))
    return {
        "article": "/",
        "favicon": "/favicon.ico",  # a redirect to the static icon
        "privacy": "/privacy/",
        "healthz": "/healthz",
        "support": "/support/",
        "thank_you": "/support/thank-you/?session_id=cs_test_abc",
        "manage": "/support/manage/",
        "manage_open": _local(manage_url(donor_id=make_donor().pk)),
        "donor_receipt": f"{donor_page}receipts/{payment.pk}/",
        "donor_receipt_pdf": f"{donor_page}receipts/{payment.pk}/pdf/",
        "donor_statement": f"{donor_page}statements/2026/usd/",
        "donor_statement_pdf": f"{donor_page}statements/2026/usd/pdf/",
        "donor_data": f"{donor_page}data/",
        "reminder_opt_out": _local(reminder_stop_url(reminder_id=reminder.pk)),
        "signup": "/newsletter/",
        "confirm": _local(confirm_url(pending.pk)),
        "unsubscribe": _local(unsubscribe_url(active.pk)),
        "preview": "/newsletter/preview/",
        "archive": "/newsletter/archive/",
        "archive_feed": "/newsletter/archive/feed/",
        "issue_web": f"/newsletter/issues/{sent.web_slug}/",
        "issue_draft": _local(issue_preview_url(draft.pk)),
        "issue_share": f"/newsletter/issues/{draft.pk}/share/",  # staff: a redirect to log in
    }


def test_every_public_page_answers_head_as_it_answers_get(client: Client) -> None:
    for name, url in public_urls().items():
        get = client.get(url)
        head = client.head(url)
        assert head.status_code == get.status_code, name
        assert get.status_code in (200, 301, 302), (name, get.status_code)
        assert head.content == b"", name
        assert head["Content-Type"] == get["Content-Type"], name


def test_head_on_links_that_act_when_posted_changes_nothing(client: Client) -> None:
    urls = public_urls()
    for name in ("confirm", "unsubscribe", "reminder_opt_out", "manage_open"):
        assert client.head(urls[name]).status_code == 200, name
    assert Subscriber.objects.get(email="pending@example.org").status == "pending"
    assert Subscriber.objects.get(email="active@example.org").status == "active"
    assert Reminder.objects.get().opted_out_at is None


def _named_views(patterns: list[URLPattern | URLResolver], namespace: str = "") -> set[str]:
    names: set[str] = set()
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            names |= _named_views(entry.url_patterns, inner)
        elif entry.name:
            names.add(namespace + entry.name)
    return names


def test_the_head_test_covers_every_public_url_of_the_site() -> None:
    """A new public page must join `public_urls` (or say why it takes POST only)."""
    every = {
        name for name in _named_views(get_resolver().url_patterns)
        if not name.startswith(NOT_PUBLIC_NAMESPACES)
    }  # fmt: skip
    covered = {resolve(url.split("?")[0]).view_name for url in public_urls().values()}
    assert every - POST_ONLY == covered
