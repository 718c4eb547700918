"""Bounces over plain SMTP: real-world samples handed to the bounce listener in a real SMTP
conversation (smtplib), each with the outcome it must have; forged tokens change nothing; the
listener takes mail for its bounce domain only, and bounds message size."""

from __future__ import annotations

import logging
import smtplib
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from newsletter.bounces.listener import BounceHandler, BounceListener
from newsletter.bounces.verp import make_token
from newsletter.models import Delivery, Subscriber, SubscriberEvent
from tests.newsletter.bounce_samples import (
    BOUNCE_DOMAIN,
    FEEDBACK_ADDRESS,
    Sent,
    deliver,
    sample,
    sent_delivery,
    start_listener,
)
from tests.newsletter.factories import SubscriberFactory

pytestmark = pytest.mark.django_db(transaction=True)
Kind = SubscriberEvent.Kind
ACTIVE, BOUNCED = Subscriber.Status.ACTIVE, Subscriber.Status.BOUNCED
SENT = Delivery.Status.SENT


def history(sent: Sent) -> list[tuple[str, int | None, bool]]:
    return list(
        SubscriberEvent.objects.filter(subscriber=sent.subscriber)
        .order_by("id")
        .values_list("kind", "issue_id", "suppressed")
    )


@pytest.mark.parametrize(
    ("name", "to_verp", "subscriber_status", "delivery_status", "event"),
    [
        ("postfix_user_unknown.eml", True, BOUNCED, Delivery.Status.BOUNCED, Kind.HARD_BOUNCE),
        ("exim_user_unknown.eml", True, BOUNCED, Delivery.Status.BOUNCED, Kind.HARD_BOUNCE),
        ("gmail_address_not_found.eml", True, BOUNCED, Delivery.Status.BOUNCED, Kind.HARD_BOUNCE),
        ("microsoft_recipient_not_found.eml", True, BOUNCED, Delivery.Status.BOUNCED,
         Kind.HARD_BOUNCE),
        ("yahoo_arf_complaint.eml", False, Subscriber.Status.COMPLAINED, SENT, Kind.COMPLAINT),
        ("postfix_mailbox_full.eml", True, ACTIVE, SENT, Kind.SOFT_BOUNCE),
        ("postfix_delayed.eml", True, ACTIVE, SENT, None),
        ("outlook_auto_reply.eml", True, ACTIVE, SENT, None),
    ],
)  # fmt: skip
def test_each_real_world_sample_has_its_outcome(
    bounce_listener: BounceListener,
    name: str,
    to_verp: bool,
    subscriber_status: str,
    delivery_status: str,
    event: str | None,
) -> None:
    sent = sent_delivery()
    other = sent_delivery()  # someone else's mail is never touched

    deliver(bounce_listener, sample(name, sent), to=sent.verp if to_verp else FEEDBACK_ADDRESS)

    sent.subscriber.refresh_from_db()
    assert sent.subscriber.status == subscriber_status
    assert sent.delivery().status == delivery_status
    suppressed = subscriber_status != ACTIVE
    assert history(sent) == ([(event, sent.issue.pk, suppressed)] if event else [])
    assert history(other) == []
    assert Subscriber.objects.get(pk=other.subscriber.pk).status == ACTIVE


def test_the_bounce_detail_names_the_status_and_no_address(
    bounce_listener: BounceListener,
) -> None:
    sent = sent_delivery()
    deliver(bounce_listener, sample("microsoft_recipient_not_found.eml", sent), to=sent.verp)
    event = SubscriberEvent.objects.get(subscriber=sent.subscriber)
    assert event.detail.startswith("5.1.10 550 5.1.10 RESOLVER.ADR.RecipientNotFound")
    assert "@" not in event.detail
    assert event.source == SubscriberEvent.Source.MAIL_REPORT


def test_three_soft_bounces_in_a_row_suppress_the_address(
    bounce_listener: BounceListener,
) -> None:
    reader = SubscriberFactory.create()
    now = timezone.now()
    sends = [sent_delivery(reader, sent_at=now - timedelta(days=21 - 7 * n)) for n in range(3)]
    for n, sent in enumerate(sends):
        deliver(bounce_listener, sample("postfix_mailbox_full.eml", sent), to=sent.verp)
        reader.refresh_from_db()
        assert reader.status == (BOUNCED if n == 2 else ACTIVE)
    assert [suppressed for _, _, suppressed in history(sends[0])] == [False, False, True]


def test_a_delivered_issue_between_soft_bounces_breaks_the_row(
    bounce_listener: BounceListener,
) -> None:
    reader = SubscriberFactory.create()
    now = timezone.now()
    sends = [sent_delivery(reader, sent_at=now - timedelta(days=28 - 7 * n)) for n in range(4)]
    for n in (0, 1, 3):  # issue 2 reached the reader: no bounce came back for it
        deliver(bounce_listener, sample("postfix_mailbox_full.eml", sends[n]), to=sends[n].verp)
    reader.refresh_from_db()
    assert reader.status == ACTIVE
    assert len(history(sends[0])) == 3


def test_the_same_report_twice_counts_once(bounce_listener: BounceListener) -> None:
    reader = SubscriberFactory.create()
    now = timezone.now()
    first = sent_delivery(reader, sent_at=now - timedelta(days=7))
    second = sent_delivery(reader, sent_at=now)
    for _ in range(3):  # one bounce for the first issue, received three times
        deliver(bounce_listener, sample("postfix_mailbox_full.eml", first), to=first.verp)
    deliver(bounce_listener, sample("postfix_mailbox_full.eml", second), to=second.verp)
    reader.refresh_from_db()
    assert reader.status == ACTIVE  # two soft bounces, not four
    assert len(history(first)) == 2
    deliver(bounce_listener, sample("yahoo_arf_complaint.eml", first), to=FEEDBACK_ADDRESS)
    deliver(bounce_listener, sample("yahoo_arf_complaint.eml", first), to=FEEDBACK_ADDRESS)
    assert [kind for kind, _, _ in history(first)].count(Kind.COMPLAINT) == 1


def test_a_forged_or_altered_token_is_refused_and_changes_nothing(
    bounce_listener: BounceListener,
) -> None:
    sent = sent_delivery()
    token = sent.verp.split("+", 1)[1].split("@")[0]
    altered = token[:-1] + ("a" if token[-1] != "a" else "b")
    with override_settings(SECRET_KEY="another-site-entirely-" + "x" * 40):
        other_key = make_token(sent.delivery().pk)
    forged = [
        f"bounces+{altered}@{BOUNCE_DOMAIN}",
        f"bounces+{other_key}@{BOUNCE_DOMAIN}",
        f"bounces+{'a' * 45}@{BOUNCE_DOMAIN}",
        f"bounces+{sent.issue.pk}.{sent.subscriber.pk}@{BOUNCE_DOMAIN}",
    ]
    for address in forged:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
            deliver(bounce_listener, sample("postfix_user_unknown.eml", sent), to=address)
        assert refused.value.recipients[address][0] == 550
    assert sent.delivery().status == SENT
    assert history(sent) == []


def test_a_report_to_the_plain_address_quoting_forged_tokens_changes_nothing(
    bounce_listener: BounceListener,
) -> None:
    sent = sent_delivery()
    data = sample("yahoo_arf_complaint.eml", sent)
    token = sent.verp.split("+", 1)[1].split("@")[0]
    unsubscribe = data.split(b"/newsletter/unsubscribe/", 1)[1].split(b"/", 1)[0]
    forged = data.replace(token.encode(), b"b" * 45).replace(unsubscribe, b"1:forged")
    deliver(bounce_listener, forged, to=FEEDBACK_ADDRESS)  # accepted, then ignored
    sent.subscriber.refresh_from_db()
    assert sent.subscriber.status == ACTIVE
    assert history(sent) == []


def test_a_report_for_a_delivery_that_is_gone_changes_nothing(
    bounce_listener: BounceListener,
) -> None:
    sent = sent_delivery()
    data, verp = sample("postfix_user_unknown.eml", sent), sent.verp
    Delivery.objects.filter(subscriber=sent.subscriber).delete()
    deliver(bounce_listener, data, to=verp)
    sent.subscriber.refresh_from_db()
    assert sent.subscriber.status == ACTIVE
    assert history(sent) == []


@pytest.mark.parametrize(
    "address",
    [
        "reader@example.org",
        f"postmaster@{BOUNCE_DOMAIN}",
        "bounces@example.org",
        f"bounces@mail.{BOUNCE_DOMAIN}",
        f"news+bounces@{BOUNCE_DOMAIN}",
    ],
)
def test_it_is_never_a_relay(bounce_listener: BounceListener, address: str) -> None:
    with smtplib.SMTP("127.0.0.1", bounce_listener.bound_port, timeout=15) as client:
        client.ehlo("mx1.news.example.org")
        assert client.mail("someone@example.net")[0] == 250
        code, reply = client.rcpt(address)
    assert code == 550
    assert b"Relaying denied" in reply


def test_the_plain_bounce_address_is_accepted_in_any_case(
    bounce_listener: BounceListener,
) -> None:
    with smtplib.SMTP("127.0.0.1", bounce_listener.bound_port, timeout=15) as client:
        client.ehlo("mx1.news.example.org")
        client.mail("")
        assert client.rcpt(f"Bounces@{BOUNCE_DOMAIN.upper()}")[0] == 250


def test_a_message_over_the_size_limit_is_refused(bounce_listener: BounceListener) -> None:
    sent = sent_delivery()
    big = sample("postfix_user_unknown.eml", sent) + (b"x" * 76 + b"\r\n") * 8000  # 624 KiB
    with smtplib.SMTP("127.0.0.1", bounce_listener.bound_port, timeout=15) as client:
        client.ehlo("mx1.news.example.org")
        assert "size" in client.esmtp_features
        assert int(client.esmtp_features["size"]) == 512 * 1024
        # Announced size: refused at MAIL FROM. Unannounced: refused after the data.
        assert client.mail("", [f"SIZE={len(big)}"])[0] == 552
        client.rset()
        client.mail("")
        client.rcpt(sent.verp)
        assert client.data(big)[0] == 552
    assert sent.delivery().status == SENT


def test_a_report_it_cannot_hand_on_is_deferred_for_the_mx_to_retry() -> None:
    def broker_down(payload: object) -> None:
        raise ConnectionError("broker unreachable")

    with override_settings(BOUNCE_DOMAIN=BOUNCE_DOMAIN):
        listener = start_listener(BounceHandler(enqueue=broker_down))
        sent = sent_delivery()
        try:
            with pytest.raises(smtplib.SMTPDataError) as deferred:
                deliver(listener, sample("postfix_user_unknown.eml", sent), to=sent.verp)
        finally:
            listener.stop()
    assert deferred.value.smtp_code == 451
    assert sent.delivery().status == SENT


def test_no_address_or_token_reaches_the_log(
    bounce_listener: BounceListener, caplog: pytest.LogCaptureFixture
) -> None:
    sent = sent_delivery()
    token = sent.verp.split("+", 1)[1].split("@")[0]
    with caplog.at_level(logging.DEBUG):
        deliver(bounce_listener, sample("postfix_user_unknown.eml", sent), to=sent.verp)
        deliver(bounce_listener, sample("yahoo_arf_complaint.eml", sent), to=FEEDBACK_ADDRESS)
    text = caplog.text + " ".join(str(r.__dict__) for r in caplog.records)
    assert "newsletter.bounce.received" in text
    for secret in (token, sent.subscriber.email, "reader@example.org", "127.0.0.1"):
        assert secret not in text


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"BOUNCE_DOMAIN": "", "BOUNCE_LISTEN": "127.0.0.1:0"}, "BOUNCE_DOMAIN is not set"),
        ({"BOUNCE_DOMAIN": BOUNCE_DOMAIN, "BOUNCE_LISTEN": ""}, "Set BOUNCE_LISTEN"),
        ({"BOUNCE_DOMAIN": BOUNCE_DOMAIN, "BOUNCE_LISTEN": "2525"}, "must be host:port"),
    ],
)
def test_the_listener_command_says_what_is_missing(overrides: dict[str, str], message: str) -> None:
    from django.core.management import CommandError, call_command

    with override_settings(**overrides), pytest.raises(CommandError, match=message):
        call_command("bounce_listener")
