"""Every way off the list leaves a line in the subscriber's history (what, how, after which
issue), and the admin shows it, with each issue's outcomes after the send."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from newsletter.figures import issue_outcomes
from newsletter.models import Delivery, Issue, Subscriber, SubscriberEvent
from newsletter.services.bounces import delivery_bounce_record, delivery_complaint_record
from newsletter.services.subscribers import TrackingEvent, subscriber_record_tracking_event
from newsletter.tokens import unsubscribe_url
from tests.newsletter.factories import IssueFactory, SubscriberFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_cache")]
Kind, Source = SubscriberEvent.Kind, SubscriberEvent.Source


@pytest.fixture
def staff(client: Client) -> Client:
    client.force_login(User.objects.create_superuser("editor", "editor@example.org", "pw-1234"))
    return client


def sent(issue: Issue, subscriber: Subscriber, *, status: str = Delivery.Status.SENT) -> None:
    Delivery.objects.create(
        issue=issue, subscriber=subscriber, status=status, sent_at=issue.sent_at
    )


def two_issues_sent_to(*subscribers: Subscriber) -> tuple[Issue, Issue]:
    now = timezone.now()
    older = IssueFactory.create(sent=True, sent_at=now - timedelta(days=7))
    latest = IssueFactory.create(sent=True, sent_at=now - timedelta(hours=1))
    for subscriber in subscribers:
        sent(older, subscriber)
        sent(latest, subscriber)
    return older, latest


def history(subscriber: Subscriber) -> list[tuple[str, str, int | None, bool]]:
    return list(
        subscriber.events.order_by("id").values_list("kind", "source", "issue_id", "suppressed")
    )


def test_the_one_click_unsubscribe_is_counted_against_the_last_issue_once() -> None:
    reader = SubscriberFactory.create()
    _, latest = two_issues_sent_to(reader)
    path = urlsplit(unsubscribe_url(reader.pk)).path
    for _ in range(2):
        assert Client().post(path, {"List-Unsubscribe": "One-Click"}).status_code == 200
    assert history(reader) == [(Kind.UNSUBSCRIBE, Source.LINK, latest.pk, True)]


def test_staffs_bulk_unsubscribe_records_each_in_a_constant_number_of_queries(
    staff: Client,
) -> None:
    def unsubscribe(count: int) -> tuple[list[Subscriber], int]:
        readers = SubscriberFactory.create_batch(count)
        two_issues_sent_to(*readers)
        with CaptureQueriesContext(connection) as queries:
            staff.post(
                "/admin/newsletter/subscriber/",
                {"action": "unsubscribe_selected", "_selected_action": [r.pk for r in readers]},
            )
        return readers, len(queries)

    _, few_queries = unsubscribe(3)
    many, many_queries = unsubscribe(30)
    assert few_queries == many_queries
    latest = Issue.objects.order_by("-sent_at").first()
    assert latest is not None
    for reader in many:
        assert history(reader) == [(Kind.UNSUBSCRIBE, Source.STAFF, latest.pk, True)]


def test_a_providers_bounce_is_in_the_history_without_an_issue() -> None:
    reader = SubscriberFactory.create(email="reader@example.org")
    subscriber_record_tracking_event(email="Reader@example.org", event=TrackingEvent.BOUNCED)
    subscriber_record_tracking_event(email="reader@example.org", event=TrackingEvent.BOUNCED)
    assert history(reader) == [(Kind.HARD_BOUNCE, Source.PROVIDER, None, True)]


def outcomes_case() -> tuple[Issue, dict[str, Subscriber]]:
    issue = IssueFactory.create(sent=True)
    people = {name: SubscriberFactory.create() for name in "abcdefgh"}
    for name in "abcde":
        sent(issue, people[name])
    sent(issue, people["f"])
    sent(issue, people["g"], status=Delivery.Status.FAILED)  # refused with 550 during the send
    sent(issue, people["h"])
    delivery_bounce_record(issue_id=issue.pk, subscriber_id=people["e"].pk, hard=False, detail="")
    delivery_bounce_record(issue_id=issue.pk, subscriber_id=people["f"].pk, hard=True, detail="")
    delivery_bounce_record(
        issue_id=issue.pk, subscriber_id=people["g"].pk, hard=True, detail="550 5.1.1",
        source=Source.SMTP_REPLY,
    )  # fmt: skip
    delivery_complaint_record(subscriber_id=people["a"].pk, issue_id=issue.pk, detail="abuse")
    Client().post(urlsplit(unsubscribe_url(people["b"].pk)).path)
    return issue, people


def test_an_issues_outcomes_count_each_kind() -> None:
    issue, _ = outcomes_case()
    outcomes = issue_outcomes(issue.pk)
    # a, b, c, d, h were delivered (a complaint means the message arrived); e bounced softly.
    assert (outcomes.accepted, outcomes.delivered, outcomes.not_sent) == (7, 5, 1)
    assert (outcomes.soft_bounced, outcomes.hard_bounced) == (1, 2)
    assert (outcomes.complaints, outcomes.unsubscribes) == (1, 1)


def test_the_issue_page_shows_the_outcomes(staff: Client) -> None:
    issue, _ = outcomes_case()
    issue.send_started_at = timezone.now()
    issue.save(update_fields=["send_started_at"])
    page = staff.get(f"/admin/newsletter/issue/{issue.pk}/change/").content.decode()
    for label, value in issue_outcomes(issue.pk).as_rows():
        assert f'<th scope="row">{label}</th><td>{value}</td>' in page


def test_the_subscriber_page_shows_why_they_left(staff: Client) -> None:
    issue, people = outcomes_case()
    page = staff.get(f"/admin/newsletter/subscriber/{people['f'].pk}/change/").content.decode()
    assert "History: bounces, complaints and unsubscribes" in page
    assert "Hard bounce" in page
    assert "Report by mail (bounce or complaint)" in page
    assert issue.subject in page
    assert "Bounces in a row" in page
    page = staff.get(f"/admin/newsletter/subscriber/{people['b'].pk}/change/").content.decode()
    assert "Unsubscribe link" in page


def test_the_data_export_includes_the_history(staff: Client) -> None:
    issue, people = outcomes_case()
    response = staff.get(f"/admin/newsletter/subscriber/{people['a'].pk}/data/")
    [line] = json.loads(response.content)["history"]
    assert line["event"] == Kind.COMPLAINT
    assert line["issue"] == issue.subject
    assert line["took_them_off_the_list"] is True


def test_erasing_a_subscriber_erases_their_history(staff: Client) -> None:
    _, people = outcomes_case()
    staff.post(f"/admin/newsletter/subscriber/{people['f'].pk}/erase/")
    assert not SubscriberEvent.objects.filter(subscriber_id=people["f"].pk).exists()
    assert SubscriberEvent.objects.filter(subscriber_id=people["a"].pk).exists()
