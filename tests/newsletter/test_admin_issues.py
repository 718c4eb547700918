"""Staff's issue admin: compose, preview, test copy, schedule/send/pause/resume/cancel, progress."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, override_settings
from django.urls import reverse
from pytest_django import DjangoCaptureOnCommitCallbacks as CaptureOnCommit

from newsletter.models import Delivery, Issue, IssueItem
from newsletter.services.issues import NewItem, issue_add_items
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory
from tests.smtp_server import SMTPServer

pytestmark = pytest.mark.django_db
FEED = Path(__file__).resolve().parent.parent / "fixtures" / "newsletter_feed.xml"


@pytest.fixture
def staff() -> Client:
    user = get_user_model().objects.create_superuser(
        "editor", email="editor@news.example.org", password="not-used-here-0"
    )
    client = Client()
    client.force_login(user)
    return client


def composed(**fields: object) -> Issue:
    issue = IssueFactory.create(**fields)
    IssueItemFactory.create(issue=issue, section=IssueItem.Section.OPINION, title="A view")
    IssueItemFactory.create(issue=issue, section=IssueItem.Section.NEWS, title="The news")
    return issue


def url(name: str, issue: Issue, *args: str) -> str:
    return reverse(f"admin:newsletter_issue_{name}", args=[issue.pk, *args])


def test_the_change_page_offers_the_send_controls_and_an_iframe_preview(staff: Client) -> None:
    issue = composed()
    page = staff.get(reverse("admin:newsletter_issue_change", args=[issue.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    for needle in ("Send test to me", "Schedule", "Send now", url("preview_html", issue)):
        assert needle in body
    assert "Pause" not in body


def test_the_html_preview_may_be_framed_by_the_admin_only_and_runs_no_script(
    staff: Client,
) -> None:
    issue = composed()
    preview = staff.get(url("preview_html", issue))
    assert preview.status_code == 200
    assert preview["X-Frame-Options"] == "SAMEORIGIN"
    csp = preview["Content-Security-Policy"]
    assert "frame-ancestors 'self'" in csp
    assert "script-src 'none'" in csp
    html = preview.content.decode()
    assert html.index("The news") < html.index("A view")

    text = staff.get(url("preview_text", issue))
    assert text["Content-Type"].startswith("text/plain")
    assert "== NEWS ==" in text.content.decode()


def test_previews_and_actions_are_for_staff_only(client: Client) -> None:
    issue = composed()
    assert client.get(url("preview_html", issue)).status_code == 302  # to the admin login
    assert client.post(url("action", issue, "send-now")).status_code == 302
    issue.refresh_from_db()
    assert issue.status == Issue.Status.DRAFT


def test_actions_refuse_get(staff: Client) -> None:
    assert staff.get(url("action", composed(), "send-now")).status_code == 405


def test_staff_schedule_then_send_now_through_the_buttons(
    staff: Client, smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    SubscriberFactory.create_batch(3)
    issue = composed()

    response = staff.post(url("schedule", issue), {"send_at": "2030-01-04T07:00"})
    assert response.status_code == 302
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SCHEDULED
    assert issue.scheduled_for is not None
    assert issue.scheduled_for.year == 2030

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url("action", issue, "send-now"))
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    assert len(smtp_server.messages) == 3

    progress = staff.get(url("progress", issue)).json()
    assert progress | {"rate": 0} == {
        "status": "sent", "queued": 0, "sent": 3, "failed": 0, "total": 3, "rate": 0,
        "eta_seconds": None,
    }  # fmt: skip


def test_pause_resume_and_cancel_buttons_drive_the_send(
    staff: Client, smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    SubscriberFactory.create_batch(2)
    issue = composed()
    staff.post(url("action", issue, "send-now"))  # batches would start on commit: not yet
    staff.post(url("action", issue, "pause"))
    issue.refresh_from_db()
    assert issue.status == Issue.Status.PAUSED
    page = staff.get(reverse("admin:newsletter_issue_change", args=[issue.pk])).content.decode()
    assert "Resume" in page
    assert 'id="issue-progress"' in page

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url("action", issue, "resume"))
    assert len(smtp_server.messages) == 2

    other = composed()
    staff.post(url("action", other, "send-now"))
    staff.post(url("action", other, "cancel"))
    other.refresh_from_db()
    assert other.status == Issue.Status.CANCELLED
    assert not Delivery.objects.filter(issue=other).exists()

    refused = staff.post(url("action", other, "resume"), follow=True)
    assert "cannot become sending" in refused.content.decode()


def test_send_test_to_me_mails_the_staff_member_and_leaves_the_ledger_alone(
    staff: Client, smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    SubscriberFactory.create_batch(2)
    issue = composed()
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url("send_test", issue))

    [copy] = smtp_server.messages
    assert copy.rcpt_tos == ["editor@news.example.org"]
    assert copy.message["Subject"].startswith("[TEST] ")
    assert copy.message["X-Newsletter-Test"] == "yes"
    assert not Delivery.objects.exists()
    issue.refresh_from_db()
    assert issue.status == Issue.Status.DRAFT


def test_a_second_test_copy_shows_items_added_since_the_first(
    staff: Client, smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    issue = composed()
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url("send_test", issue))
    # Picked from the feed: appended without touching the issue's own fields.
    issue_add_items(
        issue=issue,
        items=[NewItem(section="news", title="Late story", url="https://news.example.org/l/")],
    )
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url("send_test", issue))

    first, second = (m.message.get_body(preferencelist=("plain",)) for m in smtp_server.messages)
    assert first is not None
    assert second is not None
    assert "Late story" not in first.get_content()
    assert "Late story" in second.get_content()


@override_settings(NEWSLETTER_FEED_URL=str(FEED))
def test_staff_pick_feed_stories_into_the_issue_with_a_section_each(staff: Client) -> None:
    issue = composed()
    listing = staff.get(url("import_feed", issue))
    assert listing.status_code == 200
    assert "Floods hit the harbour district" in listing.content.decode()

    staff.post(url("import_feed", issue), {"pick": ["0", "2"], "section-2": "features"})

    added = list(issue.items.order_by("position").values_list("title", "section"))[2:]
    assert added == [
        ("Floods hit the harbour district", "news"),
        ("Where the aid money went", "features"),
    ]


def test_the_deliveries_admin_is_read_only(staff: Client) -> None:
    assert staff.get(reverse("admin:newsletter_delivery_changelist")).status_code == 200
    assert staff.get(reverse("admin:newsletter_delivery_add")).status_code == 403


@pytest.mark.parametrize("status", ["sending", "paused", "sent", "cancelled"])
def test_an_issue_whose_send_has_started_is_read_only_with_no_save_buttons(
    staff: Client, status: str
) -> None:
    issue = composed(status=status, subject="Out of the door")
    page = staff.get(reverse("admin:newsletter_issue_change", args=[issue.pk]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Out of the door" in body
    for control in ('name="_save"', 'name="_continue"', 'name="_addanother"', 'name="subject"',
                    'name="items-0-title"', "deletelink\" href"):  # fmt: skip
        assert control not in body, control
    assert "Close" in body
    refused = staff.post(reverse("admin:newsletter_issue_change", args=[issue.pk]), {})
    assert refused.status_code == 403


def test_a_draft_keeps_its_save_buttons(staff: Client) -> None:
    issue = composed()
    body = staff.get(reverse("admin:newsletter_issue_change", args=[issue.pk])).content.decode()
    assert 'name="_save"' in body
    assert 'name="subject"' in body
