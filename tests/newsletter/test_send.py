"""The send end to end against a real SMTP server on loopback (tasks run eagerly, on commit)."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

import pytest
import time_machine
from django.test import Client, override_settings
from django.utils import timezone
from pytest_django import DjangoCaptureOnCommitCallbacks as CaptureOnCommit

from donations.models import Donor, RecurringDonation
from newsletter.models import Delivery, Issue, IssueItem, Subscriber
from newsletter.services.issues import issue_send_now
from newsletter.tasks.sending import sweep_deliveries
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory
from tests.smtp_server import SMTPServer

pytestmark = pytest.mark.django_db


def composed_issue() -> Issue:
    issue = IssueFactory.create(subject="The Ledger weekly", preheader="Rivers, courts, a poet")
    for section, title in [
        (IssueItem.Section.OPINION, "Opinion piece"),
        (IssueItem.Section.NEWS, "News story"),
        (IssueItem.Section.ANALYSIS, "Analysis piece"),
        (IssueItem.Section.FEATURES, "Feature story"),
    ]:
        IssueItemFactory.create(issue=issue, section=section, title=title)
    return issue


def parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


@override_settings(SITE_URL="http://testserver", DEFAULT_FROM_EMAIL="news@news.example.org")
def test_the_received_message_has_both_parts_the_headers_and_working_links(
    smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit, client: Client
) -> None:
    reader = SubscriberFactory.create(email="Reader@example.org")
    issue = composed_issue()

    with django_capture_on_commit_callbacks(execute=True):
        issue_send_now(issue=issue)

    [received] = smtp_server.messages
    assert received.rcpt_tos == ["Reader@example.org"]
    message = received.message
    text, html = parts(message)
    assert message["Subject"] == "The Ledger weekly"
    assert "Rivers, courts, a poet" in html
    assert "Rivers, courts, a poet" in text
    order = [html.index(t) for t in ("News story", "Feature story", "Analysis piece", "Opinion")]
    assert order == sorted(order)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["List-Id"].endswith("<newsletter.testserver>")
    header = str(message["List-Unsubscribe"]).strip()  # folded after the name: long value
    match = re.fullmatch(r"<(https?://\S+)>, <(mailto:\S+)>", header)
    assert match is not None, header
    https_link, mailto = match.groups()
    assert mailto.startswith("mailto:news@news.example.org?subject=unsubscribe")
    assert f'href="{https_link}"' in html
    assert https_link in text
    assert message["Message-ID"].startswith(f"<issue{issue.pk}.")

    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    assert issue.sent_at is not None
    web_link = re.search(r'href="([^"]+)"[^>]*>View in your browser', html)
    assert web_link is not None
    assert web_link.group(1) == f"http://testserver/newsletter/issues/{issue.web_slug}/"
    web_page = client.get(web_link.group(1))
    assert web_page.status_code == 200
    assert "News story" in web_page.content.decode()

    # The mail client's one-click POST: no cookie, no CSRF token.
    one_click = Client(enforce_csrf_checks=True).post(https_link, {"List-Unsubscribe": "One-Click"})
    assert one_click.status_code == 200
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.UNSUBSCRIBED


def test_the_message_id_is_stable_per_issue_and_subscriber(
    smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    from newsletter.sending.messages import message_id

    assert message_id(issue_id=1, subscriber_id=2, domain="d") == message_id(
        issue_id=1, subscriber_id=2, domain="d"
    )
    assert message_id(issue_id=1, subscriber_id=2, domain="d") != message_id(
        issue_id=1, subscriber_id=3, domain="d"
    )


def test_only_active_subscribers_get_the_issue_and_each_exactly_once(
    smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    active = SubscriberFactory.create_batch(7)
    for status in ("pending", "unsubscribed", "bounced", "complained"):
        SubscriberFactory.create(status=status)
    issue = composed_issue()

    with (
        override_settings(NEWSLETTER_BATCH_SIZE=3),
        django_capture_on_commit_callbacks(execute=True),
    ):
        issue_send_now(issue=issue)

    assert sorted(smtp_server.recipients()) == sorted(s.email for s in active)
    assert Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT).count() == 7
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


def test_active_recurring_donors_do_not_get_the_donation_ask(
    smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    SubscriberFactory.create(email="donor@example.org")
    SubscriberFactory.create(email="reader@example.org")
    donor = Donor.objects.create(email="donor@example.org")
    RecurringDonation.objects.create(
        donor=donor,
        stripe_subscription_id="sub_1",
        frequency="monthly",
        amount=Decimal("5.00"),
        currency="usd",
        status=RecurringDonation.Status.ACTIVE,
    )

    with django_capture_on_commit_callbacks(execute=True):
        issue_send_now(issue=composed_issue())

    asks = {m.rcpt_tos[0]: "A message from" in parts(m.message)[1] for m in smtp_server.messages}
    assert asks == {"donor@example.org": False, "reader@example.org": True}


def test_4xx_recipients_are_retried_later_and_delivered_once_5xx_fail_and_bounce(
    smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    SubscriberFactory.create_batch(3)
    busy = SubscriberFactory.create(email="busy@example.org")
    gone = SubscriberFactory.create(email="gone@example.org")
    full = SubscriberFactory.create(email="full@example.org")
    refused_once: set[str] = set()

    def rcpt_reply(address: str) -> str | None:
        if address == "busy@example.org" and address not in refused_once:
            refused_once.add(address)
            return "450 4.2.1 Mailbox busy, try later"
        if address == "gone@example.org":
            return "550 5.1.1 <gone@example.org>: no such user"
        if address == "full@example.org":
            return "552 5.2.2 Mailbox full"
        return None

    smtp_server.handler.rcpt_reply = rcpt_reply
    issue = composed_issue()
    with django_capture_on_commit_callbacks(execute=True):
        issue_send_now(issue=issue)

    assert len(smtp_server.messages) == 3
    deferred = Delivery.objects.get(issue=issue, subscriber=busy)
    assert deferred.status == Delivery.Status.QUEUED
    assert deferred.attempts == 1
    assert deferred.next_attempt_at is not None
    assert deferred.next_attempt_at > timezone.now()
    failed = Delivery.objects.get(issue=issue, subscriber=gone)
    assert failed.status == Delivery.Status.FAILED
    assert failed.error.startswith("550")
    assert "@" not in failed.error
    gone.refresh_from_db()
    assert gone.status == Subscriber.Status.BOUNCED
    full.refresh_from_db()  # a 5xx that is not about the address: failed, still subscribed
    assert full.status == Subscriber.Status.ACTIVE
    assert Delivery.objects.get(issue=issue, subscriber=full).status == Delivery.Status.FAILED
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENDING  # one delivery is still waiting for its retry

    with (
        time_machine.travel(timezone.now() + timedelta(minutes=5)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sweep_deliveries()

    assert sorted(smtp_server.recipients()).count("busy@example.org") == 1
    assert len(smtp_server.messages) == 4
    deferred.refresh_from_db()
    assert deferred.status == Delivery.Status.SENT
    assert deferred.attempts == 2
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


def test_a_delivery_that_keeps_getting_4xx_fails_after_the_last_attempt(
    smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    SubscriberFactory.create(email="busy@example.org")
    smtp_server.handler.rcpt_reply = lambda address: "421 4.7.0 Try again later"
    issue = composed_issue()
    with override_settings(NEWSLETTER_MAX_ATTEMPTS=2):
        with django_capture_on_commit_callbacks(execute=True):
            issue_send_now(issue=issue)
        with (
            time_machine.travel(timezone.now() + timedelta(minutes=10)),
            django_capture_on_commit_callbacks(execute=True),
        ):
            sweep_deliveries()

    delivery = Delivery.objects.get(issue=issue)
    assert delivery.status == Delivery.Status.FAILED
    assert delivery.attempts == 2
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT
    assert smtp_server.messages == []


@override_settings(DEFAULT_FROM_EMAIL="news@news.example.org")
def test_prebuilt_smtp_bytes_are_the_same_message_as_the_backend_would_build() -> None:
    from newsletter.rendering import render_issue
    from newsletter.sending.claims import Claimed
    from newsletter.sending.messages import MessageFactory
    from newsletter.sending.smtp import SMTPMessages

    issue = composed_issue()
    reader = SubscriberFactory.create(email="reader@example.org")
    factory = MessageFactory(issue=issue, rendered=render_issue(issue), connection=None)
    messages = SMTPMessages(factory)
    row = Claimed(1, reader.pk, reader.email, "active", 0)
    for show_ask in (True, False):
        outgoing = messages.outgoing(row, show_ask=show_ask)
        assert (outgoing.mail_from, outgoing.recipient) == ("news@news.example.org", reader.email)
        fast = message_from_bytes(outgoing.data, policy=policy.default)
        slow = message_from_bytes(
            factory.build(subscriber_id=reader.pk, email=reader.email, show_ask=show_ask)
            .message()
            .as_bytes(linesep="\r\n"),
            policy=policy.default,
        )
        for header in ("To", "From", "Subject", "List-Unsubscribe", "List-Id", "Message-ID"):
            assert str(fast[header]).strip() == str(slow[header]).strip()
        assert isinstance(fast, EmailMessage)
        assert isinstance(slow, EmailMessage)
        assert parts(fast) == parts(slow)
    # An address the template cannot carry safely takes the slow path, to the same result.
    other = Claimed(2, reader.pk, "rëader@example.org", "active", 0)
    assert messages._from_template(other, show_ask=True) is None
    slow_path = message_from_bytes(messages.outgoing(other, show_ask=True).data)
    assert "xn--" not in str(slow_path["To"])
    assert slow_path["List-Id"]


def test_a_dropped_connection_defers_that_message_and_the_batch_reconnects(
    smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    for name in ("first", "drop", "last"):
        SubscriberFactory.create(email=f"{name}@example.org")
    dropped: list[str] = []
    handler = smtp_server.handler

    async def handle_rcpt(
        server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address == "drop@example.org" and not dropped:
            dropped.append(address)
            server.transport.close()  # the connection dies mid-transaction
            return "421 4.4.2 Connection dropped"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    setattr(handler, "handle_RCPT", handle_rcpt)  # noqa: B010 - this instance only
    issue = composed_issue()
    with django_capture_on_commit_callbacks(execute=True):
        issue_send_now(issue=issue)

    assert sorted(smtp_server.recipients()) == ["first@example.org", "last@example.org"]
    retry = Delivery.objects.get(issue=issue, subscriber__email="drop@example.org")
    assert retry.status == Delivery.Status.QUEUED
    assert retry.attempts == 1

    with (
        time_machine.travel(timezone.now() + timedelta(minutes=5)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sweep_deliveries()
    assert sorted(smtp_server.recipients()).count("drop@example.org") == 1
    issue.refresh_from_db()
    assert issue.status == Issue.Status.SENT


@pytest.mark.parametrize("pipelining", [True, False])
def test_refusals_are_read_alike_with_or_without_smtp_pipelining(
    pipelining: bool, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    """With PIPELINING the sender writes MAIL, RCPT and DATA at once and reads the replies
    together; a refusal must mean exactly what it means to smtplib.sendmail."""
    SubscriberFactory.create(email="fine@example.org")
    SubscriberFactory.create(email="busy@example.org")
    SubscriberFactory.create(email="gone@example.org")
    replies = {"busy@example.org": "451 4.3.0 Try later", "gone@example.org": "550 5.1.1 No"}
    server = SMTPServer(rcpt_reply=replies.get, pipelining=pipelining).start()
    try:
        with (
            override_settings(
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=server.port,
                NEWSLETTER_SMTP_CONNECTIONS=1,
            ),
            django_capture_on_commit_callbacks(execute=True),
        ):
            issue_send_now(issue=composed_issue())
    finally:
        server.stop()

    assert server.recipients() == ["fine@example.org"]
    rows = {d.subscriber.email: d for d in Delivery.objects.select_related("subscriber")}
    assert (rows["busy@example.org"].status, rows["busy@example.org"].attempts) == ("queued", 1)
    assert rows["busy@example.org"].error.startswith("451")
    assert rows["gone@example.org"].status == "failed"
    assert rows["fine@example.org"].status == "sent"
    assert Subscriber.objects.get(email="gone@example.org").status == Subscriber.Status.BOUNCED


def test_a_line_that_starts_with_a_dot_arrives_intact_over_pipelining(
    smtp_server: SMTPServer,
) -> None:
    import smtplib

    from newsletter.sending.smtp import Outgoing, pipelined_sendmail

    data = b"Subject: dots\r\n\r\nfirst\r\n.second starts with a dot\r\n..third\r\n"
    with smtplib.SMTP("127.0.0.1", smtp_server.port) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("pipelining")
        pipelined_sendmail(smtp, Outgoing("news@example.org", "reader@example.org", data))
        pipelined_sendmail(smtp, Outgoing("news@example.org", "reader@example.org", b"x\r\n"))
    first, second = smtp_server.messages
    assert first.data.replace(b"\r\n", b"\n") == data.replace(b"\r\n", b"\n")
    assert second.data.rstrip() == b"x"
