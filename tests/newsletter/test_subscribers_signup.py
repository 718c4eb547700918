"""Sign-up, double opt-in and the answers that must not tell one address from another."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.test import Client, override_settings
from django.utils import timezone

from newsletter.models import Subscriber
from newsletter.tokens import confirm_link, unsubscribe_link
from tests.newsletter.factories import SubscriberFactory
from tests.smtp_server import SMTPServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_cache")]

CaptureOnCommit = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]
LINK = re.compile(r"https?://[^\s\"<>]+/newsletter/confirm/[^\s\"<>]+/")


def sign_up(client: Client, email: str, **extra: str) -> Any:
    data = {"email": email, "consent": "on", "source": "/", "website": "", **extra}
    return client.post("/newsletter/", data)


def test_confirmation_email_link_makes_an_active_subscriber_over_real_smtp(
    client: Client, smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, "  Reader@Example.ORG ", source="/2026/11/dam-trial/")
    assert response.status_code == 200
    subscriber = Subscriber.objects.get()
    assert subscriber.email == "reader@example.org"
    assert subscriber.status == Subscriber.Status.PENDING
    assert subscriber.consent_at is not None
    assert subscriber.consent_policy_version == "2026-11"
    assert subscriber.consent_source == "/2026/11/dam-trial/"

    [received] = smtp_server.messages
    assert received.rcpt_tos == ["reader@example.org"]
    message = received.message
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    assert text_part is not None
    assert html_part is not None
    text, html = text_part.get_content(), html_part.get_content()
    assert "the weekly newsletter of The Independent Ledger." in text
    assert not re.search(r"\bthe the\b", f"{message['Subject']} {text} {html}", re.I)
    found = LINK.search(text)
    assert found is not None
    url = found.group(0)
    assert url in html
    path = url.split("testserver", 1)[1]

    page = client.get(path)
    assert page.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING  # a link scanner's GET confirms nothing
    assert client.post(path).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert subscriber.confirmed_at is not None


def test_new_pending_and_active_addresses_get_the_same_page(
    client: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    SubscriberFactory.create(email="active@example.org")
    SubscriberFactory.create(email="pending@example.org", status=Subscriber.Status.PENDING)
    answers = []
    for email in ("new@example.org", "pending@example.org", "active@example.org"):
        with django_capture_on_commit_callbacks(execute=True):
            response = sign_up(client, email)
        answers.append((response.status_code, response.content.decode()))
    assert len(set(answers)) == 1
    # The active address is not mailed; the pending one's last email was a day ago.
    assert sorted(m.to[0] for m in mail.outbox) == ["new@example.org", "pending@example.org"]


@pytest.mark.parametrize(
    "email",
    [
        "",
        "no-at-sign.example.org",
        "two@@example.org",
        "reader@",
        "@example.org",
        "reader@example",
        "read er@example.org",
        "reader@exa mple.org",
        "reader@example..org",
        "<script>@example.org",
        "x" * 250 + "@example.org",
        # Valid to Django's validator, but not mailable as typed: a control character in a
        # quoted local part is dropped by the mail library (the mail would go to ab@...), a
        # comma splits the address, an IP literal sends our mail server wherever it says.
        '"a\x01b"@example.org',
        '"a,b"@example.org',
        "reader@[203.0.113.7]",
    ],
)
def test_bad_addresses_get_a_clear_message_and_nothing_is_stored(
    client: Client, email: str
) -> None:
    response = sign_up(client, email)
    assert response.status_code == 400
    body = response.content.decode()
    assert "Please enter" in body
    assert Subscriber.objects.count() == 0
    assert mail.outbox == []


def test_consent_is_required(client: Client) -> None:
    response = client.post("/newsletter/", {"email": "reader@example.org", "source": "/"})
    assert response.status_code == 400
    assert "Please agree to the Privacy Policy" in response.content.decode()
    assert not Subscriber.objects.exists()


def test_honeypot_answers_like_success_but_stores_and_sends_nothing(
    client: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, "bot@example.org", website="https://spam.example")
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    assert not Subscriber.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("source", "stored"),
    [
        ("/2026/11/story/", "/2026/11/story/"),
        ("/story/?utm=x#top", "/story/"),
        ("https://evil.example/", "/newsletter/"),
        ("//evil.example/path", "/newsletter/"),
        ("javascript:alert(1)", "/newsletter/"),
        ("/\\evil.example", "/newsletter/"),
        ("", "/newsletter/"),
    ],
)
def test_source_is_kept_only_as_a_local_path(client: Client, source: str, stored: str) -> None:
    sign_up(client, "reader@example.org", source=source)
    assert Subscriber.objects.get().consent_source == stored


def test_confirmation_is_resent_at_most_once_per_interval_per_address(
    client: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(3):
            with django_capture_on_commit_callbacks(execute=True):
                assert sign_up(client, "reader@example.org").status_code == 200
    assert len(mail.outbox) == 1
    later = start + timedelta(minutes=11)
    with (
        time_machine.travel(later, tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        sign_up(client, "reader@example.org")
    assert len(mail.outbox) == 2


@override_settings(NEWSLETTER_SIGNUP_RATE="3/h")
def test_sign_ups_are_rate_limited_per_client(client: Client) -> None:
    codes = [sign_up(client, f"reader{n}@example.org").status_code for n in range(5)]
    assert codes == [200, 200, 200, 429, 429]
    assert Subscriber.objects.count() == 3


def test_sign_up_form_refuses_a_post_from_another_site() -> None:
    client = Client(enforce_csrf_checks=True, HTTP_ORIGIN="https://evil.example.net")
    response = sign_up(client, "reader@example.org")
    assert response.status_code == 403
    assert not Subscriber.objects.exists()


def test_box_on_the_article_posts_the_page_path_and_has_a_preview_link(client: Client) -> None:
    html = client.get("/").content.decode()
    assert 'action="/newsletter/"' in html
    assert 'name="source" value="/"' in html
    assert 'name="csrfmiddlewaretoken"' not in html  # a reader form (newsroom.same_origin)
    assert 'href="/newsletter/preview/">Preview</a>' in html
    assert 'name="website"' in html


@pytest.mark.parametrize("mangle", ["forged", "altered", "expired", "other-purpose"])
def test_bad_confirm_tokens_are_refused_with_400(client: Client, mangle: str) -> None:
    subscriber = SubscriberFactory.create(status=Subscriber.Status.PENDING)
    token = confirm_link.make(subscriber.pk)
    if mangle == "forged":
        token = "MQ:1xWKMf:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
    elif mangle == "altered":  # one character of the sealed payload changed
        middle = len(token) // 2
        token = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    elif mangle == "other-purpose":
        token = unsubscribe_link.make(subscriber.pk)
    if mangle == "expired":
        with time_machine.travel(timezone.now() + timedelta(days=8)):
            response = client.post(f"/newsletter/confirm/{token}/")
    else:
        response = client.post(f"/newsletter/confirm/{token}/")
    assert response.status_code == 400
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING


def test_confirming_twice_is_harmless(client: Client) -> None:
    subscriber = SubscriberFactory.create(status=Subscriber.Status.PENDING)
    url = f"/newsletter/confirm/{confirm_link.make(subscriber.pk)}/"
    assert client.post(url).status_code == 200
    assert client.post(url).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE


def test_a_bounced_address_is_not_mailed_again_but_gets_the_same_page(
    client: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    SubscriberFactory.create(email="gone@example.org", status=Subscriber.Status.BOUNCED)
    with django_capture_on_commit_callbacks(execute=True):
        response = sign_up(client, "gone@example.org")
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    assert mail.outbox == []


def test_a_refused_confirmation_is_logged_without_the_address_and_changes_nothing(
    client: Client,
    django_capture_on_commit_callbacks: CaptureOnCommit,
    caplog: pytest.LogCaptureFixture,
) -> None:
    server = SMTPServer(rcpt_reply=lambda address: "550 5.1.1 No such user").start()
    try:
        with (
            override_settings(
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=server.port,
            ),
            caplog.at_level(logging.INFO),
            django_capture_on_commit_callbacks(execute=True),
        ):
            response = sign_up(client, "nobody@example.org")
    finally:
        server.stop()
    assert response.status_code == 200
    assert server.messages == []
    assert Subscriber.objects.get().status == Subscriber.Status.PENDING
    assert any(r.getMessage() == "newsletter.confirmation.refused" for r in caplog.records)
    ours = [r for r in caplog.records if r.name.startswith("newsletter")]
    assert ours
    assert all("nobody@example.org" not in str(record.__dict__) for record in ours)
