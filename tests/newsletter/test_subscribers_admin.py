"""Staff's subscriber admin: list and search, CSV import/export, data export, erase."""

from __future__ import annotations

import csv
import io
import json
import logging

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.http import StreamingHttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext

from newsletter.models import Delivery, Subscriber
from tests.newsletter.factories import IssueFactory, SubscriberFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_cache")]

LIST = "/admin/newsletter/subscriber/"


def streamed(response: object) -> str:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content).decode()  # type: ignore[arg-type]


@pytest.fixture
def staff(client: Client) -> Client:
    user = User.objects.create_superuser("editor", "editor@example.org", "pw-editor-123")
    client.force_login(user)
    return client


def test_list_shows_status_and_source_and_search_finds_by_email(staff: Client) -> None:
    SubscriberFactory.create(email="alice@example.org", source="/story/")
    SubscriberFactory.create(email="bob@example.org", status=Subscriber.Status.BOUNCED)
    html = staff.get(LIST).content.decode()
    assert "alice@example.org" in html
    assert "/story/" in html
    assert "Bounced" in html
    found = staff.get(LIST, {"q": "alice"}).content.decode()
    assert "alice@example.org" in found
    assert "bob@example.org" not in found
    filtered = staff.get(LIST, {"status__exact": "bounced"}).content.decode()
    assert "bob@example.org" in filtered
    assert "alice@example.org" not in filtered


def test_csv_import_creates_active_subscribers_and_reports_counts(staff: Client) -> None:
    SubscriberFactory.create(email="known@example.org", status=Subscriber.Status.UNSUBSCRIBED)
    content = (
        b"name,email\n"
        b"Ann,ann@example.org\n"
        b"Ann again, ANN@Example.org \n"
        b"Known,known@example.org\n"
        b"Broken,not-an-address\n"
        b"Empty,\n"
        b"Ben,ben@example.org\n"
    )
    upload = SimpleUploadedFile("list.csv", content, content_type="text/csv")
    response = staff.post(
        f"{LIST}import/",
        {"file": upload, "consent_source": "Print sign-up cards 2026"},
        follow=True,
    )
    assert response.status_code == 200
    assert (
        "Imported 2 new subscriber(s); skipped 1 already on the list, 2 invalid address(es) "
        "and 0 erased on request." in response.content.decode()
    )
    ann = Subscriber.objects.get(email="ann@example.org")
    assert ann.status == Subscriber.Status.ACTIVE
    assert ann.consent_source == "import: Print sign-up cards 2026"
    assert ann.consent_at is not None
    assert ann.consent_policy_version == "2026-11"
    # An address that left is not put back on the list by an import.
    assert Subscriber.objects.get(email="known@example.org").status == "unsubscribed"


def test_csv_import_needs_a_consent_source(staff: Client) -> None:
    upload = SimpleUploadedFile("list.csv", b"email\nann@example.org\n")
    response = staff.post(f"{LIST}import/", {"file": upload, "consent_source": ""})
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert not Subscriber.objects.exists()


def test_csv_export_lists_every_subscriber_and_defuses_formulas(staff: Client) -> None:
    SubscriberFactory.create(email="ann@example.org", source="=HYPERLINK(1)")
    SubscriberFactory.create(email="ben@example.org", status=Subscriber.Status.PENDING)
    response = staff.get(f"{LIST}export/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(streamed(response))))
    assert [row["email"] for row in rows] == ["ann@example.org", "ben@example.org"]
    assert rows[0]["source"] == "'=HYPERLINK(1)"
    assert rows[1]["status"] == "pending"


def test_export_selected_action_downloads_only_the_selection(staff: Client) -> None:
    ann = SubscriberFactory.create(email="ann@example.org")
    SubscriberFactory.create(email="ben@example.org")
    response = staff.post(LIST, {"action": "export_selected_csv", "_selected_action": [ann.pk]})
    body = streamed(response)
    assert "ann@example.org" in body
    assert "ben@example.org" not in body


def test_data_export_has_everything_we_hold_including_delivery_history(staff: Client) -> None:
    subscriber = SubscriberFactory.create(email="ann@example.org")
    issue = IssueFactory.create(sent=True, subject="The dam trial")
    Delivery.objects.create(issue=issue, subscriber=subscriber, status=Delivery.Status.SENT)
    response = staff.get(f"{LIST}{subscriber.pk}/data/")
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["subscriber"]["email"] == "ann@example.org"
    assert data["subscriber"]["consent_policy_version"] == "2026-11"
    assert data["subscriber"]["consent_source"] == "/"
    assert data["deliveries"][0]["issue"] == "The dam trial"
    assert data["deliveries"][0]["status"] == "sent"


def test_erase_deletes_the_subscriber_and_deliveries_and_logs_no_address(
    staff: Client, caplog: pytest.LogCaptureFixture
) -> None:
    subscriber = SubscriberFactory.create(email="ann@example.org")
    other = SubscriberFactory.create(email="ben@example.org")
    issue = IssueFactory.create(sent=True)
    Delivery.objects.create(issue=issue, subscriber=subscriber)
    Delivery.objects.create(issue=issue, subscriber=other)
    confirm_page = staff.get(f"{LIST}{subscriber.pk}/erase/")
    assert "Erase subscriber" in confirm_page.content.decode()
    assert Subscriber.objects.filter(pk=subscriber.pk).exists()  # GET erases nothing
    with caplog.at_level(logging.INFO):
        response = staff.post(f"{LIST}{subscriber.pk}/erase/", follow=True)
    assert response.status_code == 200
    assert not Subscriber.objects.filter(pk=subscriber.pk).exists()
    assert list(Delivery.objects.values_list("subscriber_id", flat=True)) == [other.pk]
    assert "ann@example.org" not in caplog.text
    assert any(r.getMessage() == "newsletter.subscriber.erased" for r in caplog.records)


def test_unsubscribe_action_takes_the_selection_off_the_list_in_one_update(
    staff: Client,
) -> None:
    selected = SubscriberFactory.create_batch(30)
    bounced = SubscriberFactory.create(status=Subscriber.Status.BOUNCED)
    other = SubscriberFactory.create()
    ids = [s.pk for s in (*selected, bounced)]
    with CaptureQueriesContext(connection) as queries:
        response = staff.post(
            LIST, {"action": "unsubscribe_selected", "_selected_action": ids}, follow=True
        )
    updates = [q["sql"] for q in queries if q["sql"].startswith('UPDATE "newsletter_subscriber"')]
    assert len(updates) == 1
    assert "30 subscriber(s) unsubscribed." in response.content.decode()
    statuses = dict(Subscriber.objects.values_list("pk", "status"))
    assert {statuses[s.pk] for s in selected} == {Subscriber.Status.UNSUBSCRIBED}
    assert statuses[bounced.pk] == Subscriber.Status.BOUNCED  # off the list already: stays so
    assert statuses[other.pk] == Subscriber.Status.ACTIVE


def test_subscriber_admin_pages_are_for_staff_only(client: Client) -> None:
    subscriber = SubscriberFactory.create()
    for url in (LIST, f"{LIST}import/", f"{LIST}export/", f"{LIST}{subscriber.pk}/data/"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]
