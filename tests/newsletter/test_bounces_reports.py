"""Reading reports: each sample's form, verdict and status; which delivery a report names when
only the returned message says it; and any input gets an answer, never an exception."""

from __future__ import annotations

import re

import pytest
from django.test import override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsletter.bounces.identify import identify
from newsletter.bounces.reports import Kind, classify, parse
from tests.newsletter.bounce_samples import BOUNCE_DOMAIN, SAMPLES, Sent, sample, sent_delivery

pytestmark = pytest.mark.django_db

EXPECTED = {
    "postfix_user_unknown.eml": ("dsn", Kind.HARD, "5.1.1"),
    "postfix_mailbox_full.eml": ("dsn", Kind.SOFT, "5.2.2"),
    "postfix_delayed.eml": ("dsn", Kind.DELAYED, "4.4.1"),
    "exim_user_unknown.eml": ("text", Kind.HARD, "5.1.1"),
    "gmail_address_not_found.eml": ("dsn", Kind.HARD, "5.1.1"),
    "microsoft_recipient_not_found.eml": ("dsn", Kind.HARD, "5.1.10"),
    "yahoo_arf_complaint.eml": ("arf", Kind.COMPLAINT, ""),
    "outlook_auto_reply.eml": ("auto-reply", Kind.NONE, ""),
}


@pytest.fixture
def sent() -> Sent:
    with override_settings(BOUNCE_DOMAIN=BOUNCE_DOMAIN):
        return sent_delivery()


def test_every_sample_has_an_expectation() -> None:
    assert sorted(path.name for path in SAMPLES.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
@override_settings(BOUNCE_DOMAIN=BOUNCE_DOMAIN)
def test_each_sample_reads_as_what_it_is(sent: Sent, name: str) -> None:
    report = parse(sample(name, sent))
    assert (report.form, report.kind, report.status) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - {"outlook_auto_reply.eml"}))
@override_settings(BOUNCE_DOMAIN=BOUNCE_DOMAIN)
def test_the_returned_message_names_the_delivery_without_the_envelope(
    sent: Sent, name: str
) -> None:
    """A feedback loop writes to the plain address; some MX rewrite the envelope."""
    target = identify(recipients=[], evidence=parse(sample(name, sent)).evidence)
    assert target is not None
    assert target.delivery_id == sent.delivery().pk


@override_settings(BOUNCE_DOMAIN=BOUNCE_DOMAIN)
def test_without_a_return_path_the_unsubscribe_link_and_message_id_name_it(sent: Sent) -> None:
    data = sample("yahoo_arf_complaint.eml", sent)
    data = re.sub(rb"(?m)^(Return-Path|Original-Mail-From):.*\r\n", b"", data)
    target = identify(recipients=[], evidence=parse(data).evidence)
    assert target is not None
    assert (target.subscriber_id, target.issue_id, target.via) == (
        sent.subscriber.pk, sent.issue.pk, "unsubscribe-link",
    )  # fmt: skip
    other = sent_delivery()
    swapped = data.replace(
        re.search(rb"<issue\d+\.[0-9a-f]{24}@[^>]+>", data).group(0),  # type: ignore[union-attr]
        f"<issue{other.issue.pk}.000000000000000000000000@testserver>".encode(),
    )
    target = identify(recipients=[], evidence=parse(swapped).evidence)
    assert target is not None
    assert target.issue_id is None


@override_settings(BOUNCE_DOMAIN=BOUNCE_DOMAIN)
def test_a_bounce_forwarded_inside_a_persons_message_is_not_a_report(sent: Sent) -> None:
    dsn = sample("postfix_user_unknown.eml", sent)
    forwarded = (
        b"From: Reader <reader@example.org>\r\nTo: " + sent.verp.encode() + b"\r\n"
        b"Subject: Fwd: this bounced?\r\nMIME-Version: 1.0\r\n"
        b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n'
        b"--b\r\nContent-Type: text/plain\r\n\r\nWhy did I get this? 550 5.1.1\r\n"
        b"--b\r\nContent-Type: message/rfc822\r\n\r\n" + dsn + b"\r\n--b--\r\n"
    )
    assert parse(forwarded).kind == Kind.NONE


@pytest.mark.parametrize(
    ("status", "text", "kind"),
    [
        ("5.1.1", "550 5.1.1 user unknown", Kind.HARD),
        ("5.2.1", "550 5.2.1 The email account that you tried to reach is disabled", Kind.HARD),
        ("5.4.4", "Host or domain name not found", Kind.HARD),
        ("5.4.1", "550 5.4.1 Recipient address rejected: Access denied. AS(201806281)",
         Kind.HARD),
        ("5.5.0", "550 5.5.0 Requested action not taken: mailbox unavailable", Kind.HARD),
        ("5.0.0", "550 No such user here", Kind.HARD),
        ("", "550 Unrouteable address", Kind.HARD),
        ("5.2.2", "552 5.2.2 Mailbox full", Kind.SOFT),
        ("5.7.1", "554 5.7.1 Message rejected as spam by Content Filtering", Kind.SOFT),
        ("5.7.1", "554 5.7.1 <x>: Relay access denied", Kind.SOFT),
        ("5.7.26", "550 5.7.26 Unauthenticated email is not accepted", Kind.SOFT),
        ("4.2.2", "452 4.2.2 Mailbox full", Kind.SOFT),
        ("5.0.0", "554 Your daily relay quota is reached", Kind.SOFT),
    ],
)  # fmt: skip
def test_only_a_gone_address_is_a_hard_bounce(status: str, text: str, kind: Kind) -> None:
    assert classify(status, text) == kind


def test_a_daemons_plain_text_delay_warning_is_not_a_bounce() -> None:
    data = (
        b"From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>\r\n"
        b"Subject: Delivery Status Notification (Delay)\r\n\r\n"
        b"Delivery incomplete\r\n\r\nThere was a temporary problem delivering your message. "
        b"Gmail will retry for 47 more hours.\r\n"
    )
    assert parse(data).kind == Kind.DELAYED


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=4096))
def test_any_bytes_get_an_answer(data: bytes) -> None:
    assert parse(data).kind in set(Kind)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    name=st.sampled_from(sorted(EXPECTED)),
    cut=st.integers(min_value=0, max_value=20_000),
    junk=st.binary(max_size=64),
)
@override_settings(BOUNCE_DOMAIN=BOUNCE_DOMAIN)
def test_a_truncated_or_mangled_sample_gets_an_answer(
    sent: Sent, name: str, cut: int, junk: bytes
) -> None:
    data = sample(name, sent)
    report = parse(data[:cut] + junk + data[cut + len(junk) :])
    assert report.kind in set(Kind)
    identify(recipients=[], evidence=report.evidence)
