"""The send through the newsroom's own mail server: every message leaves with its delivery's
bounce address as envelope sender and two DKIM signatures (RSA and Ed25519) that verify
against the published records, and a bounce of it, received by the listener, takes the
address off the list before the next issue."""

from __future__ import annotations

import dkim
import pytest
from django.test import override_settings
from pytest_django import DjangoCaptureOnCommitCallbacks as CaptureOnCommit

from newsletter.bounces.listener import BounceListener
from newsletter.bounces.verp import read_address, return_path
from newsletter.models import Delivery, Issue, IssueItem, Subscriber, SubscriberEvent
from newsletter.services.issues import issue_send_now
from tests.dkim_keys import DOMAIN, DkimSetup
from tests.newsletter.bounce_samples import BOUNCE_DOMAIN, deliver, start_listener
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory
from tests.smtp_server import ReceivedMessage, SMTPServer

pytestmark = pytest.mark.django_db
FROM = f"The Independent Ledger <newsletter@{DOMAIN}>"


def composed_issue(subject: str = "This week: the port, the budget, the river") -> Issue:
    issue = IssueFactory.create(subject=subject)
    IssueItemFactory.create(issue=issue, section=IssueItem.Section.NEWS, title="The port")
    return issue


def send(issue: Issue, capture: CaptureOnCommit) -> None:
    with capture(execute=True):
        issue_send_now(issue=issue)


def received_by(smtp_server: SMTPServer) -> dict[str, ReceivedMessage]:
    return {message.rcpt_tos[0]: message for message in smtp_server.messages}


@override_settings(BOUNCE_DOMAIN=BOUNCE_DOMAIN, DEFAULT_FROM_EMAIL=FROM)
def test_every_message_has_its_bounce_address_and_two_signatures_that_verify(
    dkim_setup: DkimSetup,
    smtp_server: SMTPServer,
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    # An ASCII address takes the prebuilt fast path; an IDN domain the message-object path.
    fast = SubscriberFactory.create(email="reader@example.org")
    slow = SubscriberFactory.create(email="reader@exämple.org")
    issue = composed_issue()
    send(issue, django_capture_on_commit_callbacks)

    received = received_by(smtp_server)
    assert set(received) == {"reader@example.org", "reader@xn--exmple-cua.org"}
    dnsfunc = dkim_setup.dnsfunc()
    for subscriber, address in ((fast, "reader@example.org"), (slow, "reader@xn--exmple-cua.org")):
        message = received[address]
        delivery = Delivery.objects.get(issue=issue, subscriber=subscriber)
        assert message.mail_from == return_path(delivery.pk)
        assert read_address(message.mail_from) == delivery.pk
        assert message.message["From"] == FROM  # the reader sees the newsroom, not the VERP
        verifier = dkim.DKIM(message.data)
        assert verifier.verify(idx=0, dnsfunc=dnsfunc), address
        assert verifier.verify(idx=1, dnsfunc=dnsfunc), address
        signed = verifier.signature_fields[b"h"].replace(b" ", b"").split(b":")
        assert b"list-unsubscribe" in signed
        assert b"list-unsubscribe-post" in signed


def test_without_a_bounce_domain_the_envelope_sender_is_the_from_address(
    smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    SubscriberFactory.create(email="reader@example.org")
    with override_settings(DEFAULT_FROM_EMAIL=FROM, BOUNCE_DOMAIN=""):
        send(composed_issue(), django_capture_on_commit_callbacks)
    [message] = smtp_server.messages
    assert message.mail_from == f"newsletter@{DOMAIN}"
    assert b"DKIM-Signature" not in message.data


def _postfix_bounce(returned: bytes, to: str) -> bytes:
    """A DSN as Postfix makes one, returning the message exactly as the server received it."""
    head = f"""From: MAILER-DAEMON@mx1.news.example.org (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain; charset=us-ascii

<reader@example.org>: host mail.example.org[192.0.2.25] said: 550 5.1.1
    <reader@example.org>: Recipient address rejected: User unknown

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx1.news.example.org

Final-Recipient: rfc822; reader@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <reader@example.org>: Recipient address
    rejected: User unknown

--B
Content-Type: message/rfc822

"""
    return head.replace("\n", "\r\n").encode() + returned + b"\r\n--B--\r\n"


@pytest.mark.django_db(transaction=True)
@override_settings(BOUNCE_DOMAIN=BOUNCE_DOMAIN, DEFAULT_FROM_EMAIL=FROM)
def test_a_bounce_of_a_sent_message_keeps_the_next_issue_from_that_address(
    smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    gone = SubscriberFactory.create(email="reader@example.org")
    kept = SubscriberFactory.create(email="colleague@example.org")
    first = composed_issue("First issue")
    send(first, django_capture_on_commit_callbacks)
    message = received_by(smtp_server)["reader@example.org"]

    listener: BounceListener = start_listener()
    try:
        deliver(listener, _postfix_bounce(message.data, message.mail_from), to=message.mail_from)
    finally:
        listener.stop()

    gone.refresh_from_db()
    assert gone.status == Subscriber.Status.BOUNCED
    assert Delivery.objects.get(issue=first, subscriber=gone).status == Delivery.Status.BOUNCED
    send(composed_issue("Second issue"), django_capture_on_commit_callbacks)
    second = [m for m in smtp_server.messages if m.message["Subject"] == "Second issue"]
    assert [m.rcpt_tos for m in second] == [[kept.email]]


def test_a_550_during_the_send_is_a_hard_bounce_in_the_subscribers_history(
    django_capture_on_commit_callbacks: CaptureOnCommit,
) -> None:
    server = SMTPServer(rcpt_reply=lambda address: "550 5.1.1 <x@example.org>: User unknown")
    server.start()
    reader = SubscriberFactory.create(email="reader@example.org")
    issue = composed_issue()
    try:
        with override_settings(
            EMAIL_BACKEND="newsroom.smtp.backend.SMTPBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=server.port,
        ):
            send(issue, django_capture_on_commit_callbacks)
    finally:
        server.stop()
    reader.refresh_from_db()
    assert reader.status == Subscriber.Status.BOUNCED
    event = SubscriberEvent.objects.get(subscriber=reader)
    assert (event.kind, event.source, event.issue_id, event.suppressed) == (
        SubscriberEvent.Kind.HARD_BOUNCE, SubscriberEvent.Source.SMTP_REPLY, issue.pk, True,
    )  # fmt: skip
    assert "@" not in event.detail
