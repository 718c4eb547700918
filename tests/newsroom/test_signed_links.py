"""The one signed-link class: opaque, purpose-bound, expiring, rotatable, and still reading
every link mailed in the old format."""

from __future__ import annotations

import base64
import contextlib

import pytest
import time_machine
from django.core import signing
from django.test import Client, override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from donations.links import manage_link, past_due_manage_link, reminder_stop_link
from newsletter.tokens import confirm_link, issue_preview_link, unsubscribe_link
from newsroom.errors import ExpiredLink, InvalidLink
from newsroom.signed_links import SignedLink

ALL = [confirm_link, unsubscribe_link, issue_preview_link, manage_link, past_due_manage_link]


@pytest.mark.parametrize("link", [*ALL, reminder_stop_link], ids=lambda link: link.purpose)
def test_a_token_reads_back_to_its_id(link: SignedLink) -> None:
    assert link.read(link.make(123456789)) == 123456789


def test_tokens_are_opaque_no_id_can_be_read_or_counted() -> None:
    tokens = [unsubscribe_link.make(n) for n in range(1, 200)]
    assert len({len(token) for token in tokens}) == 1  # same length whatever the id
    for token in tokens:
        assert token.isascii()
        assert ":" not in token
        raw = base64.urlsafe_b64decode(token + "==")
        assert b"\x00\x00\x00\x00" not in raw  # no plain big-endian small integer inside
    # Neighbouring ids share no prefix a stranger could walk along.
    prefixes = {token[:6] for token in tokens}
    assert len(prefixes) == len(tokens)


def test_a_token_of_one_purpose_opens_nothing_of_another() -> None:
    token = confirm_link.make(7)
    for other in (unsubscribe_link, issue_preview_link, manage_link, reminder_stop_link):
        with pytest.raises(InvalidLink):
            other.read(token)


def test_an_expiring_token_expires_and_says_so() -> None:
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        token = manage_link.make(5)
    with time_machine.travel("2026-01-01 12:59Z", tick=False):
        assert manage_link.read(token) == 5
    with time_machine.travel("2026-01-01 13:01Z", tick=False), pytest.raises(ExpiredLink):
        manage_link.read(token)


def test_a_lasting_token_is_the_same_each_time_and_never_expires() -> None:
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        token = unsubscribe_link.make(42)
    with time_machine.travel("2036-01-01 12:00Z", tick=False):
        assert unsubscribe_link.make(42) == token
        assert unsubscribe_link.read(token) == 42


def test_keys_are_read_when_used_and_a_rotated_key_still_opens_old_tokens() -> None:
    with override_settings(SECRET_KEY="the-old-key-" + "x" * 40):
        token = unsubscribe_link.make(9)
    assert token != unsubscribe_link.make(9)  # the key is read at use, not at import
    with pytest.raises(InvalidLink):
        unsubscribe_link.read(token)
    with override_settings(SECRET_KEY_FALLBACKS=["the-old-key-" + "x" * 40]):
        assert unsubscribe_link.read(token) == 9


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120))
def test_any_text_is_an_invalid_link_never_another_error(text: str) -> None:
    for link in (*ALL, reminder_stop_link):
        with contextlib.suppress(InvalidLink):
            link.read(text)


@given(st.binary(min_size=28, max_size=28))
@settings(max_examples=200, deadline=None)
def test_random_sealed_bytes_of_the_right_length_are_refused(raw: bytes) -> None:
    token = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    with pytest.raises(InvalidLink):
        unsubscribe_link.read(token)


# --- Links mailed before the opaque format keep working ------------------------------------


def test_an_unsubscribe_link_from_any_issue_ever_sent_still_unsubscribes(db: None) -> None:
    from newsletter.models import Subscriber
    from tests.newsletter.factories import SubscriberFactory

    subscriber = SubscriberFactory.create()
    old = signing.Signer(salt="newsletter.unsubscribe").sign(format(subscriber.pk, "x"))
    with time_machine.travel("2036-01-01 12:00Z", tick=False):
        response = Client().post(
            f"/newsletter/unsubscribe/{old}/", {"List-Unsubscribe": "One-Click"}
        )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED


def test_old_format_links_of_every_purpose_are_read_until_they_expire() -> None:
    old_confirm = signing.dumps(11, salt="newsletter.confirm")
    old_preview = signing.dumps(12, salt="newsletter.issue-preview")
    old_manage = signing.dumps({"donor": 13}, salt="donations.manage-link", compress=True)
    old_past_due = signing.dumps({"donor": 14}, salt="donations.manage-link.past-due")
    old_stop = signing.dumps({"reminder": 15}, salt="donations.reminder-opt-out")
    assert confirm_link.read(old_confirm) == 11
    assert issue_preview_link.read(old_preview) == 12
    assert manage_link.read(old_manage) == 13
    assert past_due_manage_link.read(old_past_due) == 14
    assert reminder_stop_link.read(old_stop) == 15
    with pytest.raises(InvalidLink):  # an old token of another purpose
        manage_link.read(old_confirm)


def test_an_old_format_link_still_expires() -> None:
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        old_manage = signing.dumps({"donor": 13}, salt="donations.manage-link")
    with time_machine.travel("2026-01-01 14:00Z", tick=False), pytest.raises(ExpiredLink):
        manage_link.read(old_manage)
