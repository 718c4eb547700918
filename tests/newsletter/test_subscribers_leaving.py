"""Leaving (GET shows a button, POST leaves, RFC 8058 one-click without CSRF) and coming back."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core import mail
from django.test import Client

from newsletter.models import Subscriber
from newsletter.tokens import confirm_link, unsubscribe_link, unsubscribe_url
from tests.newsletter.factories import SubscriberFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_cache")]

CaptureOnCommit = Callable[..., AbstractContextManager[list[Callable[[], Any]]]]


def path_of(subscriber: Subscriber) -> str:
    return unsubscribe_url(subscriber.pk).removeprefix("http://testserver")


def test_unsubscribe_url_is_absolute_and_signed_for_this_subscriber() -> None:
    url = unsubscribe_url(42)
    assert url == f"http://testserver/newsletter/unsubscribe/{unsubscribe_link.make(42)}/"


def test_get_shows_a_button_and_does_not_unsubscribe(client: Client) -> None:
    subscriber = SubscriberFactory.create()
    response = client.get(path_of(subscriber))
    assert response.status_code == 200
    assert "Unsubscribe" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE


def test_one_click_post_without_cookies_or_csrf_token_unsubscribes_at_once() -> None:
    subscriber = SubscriberFactory.create()
    client = Client(enforce_csrf_checks=True)
    response = client.post(path_of(subscriber), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert not response.cookies
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED
    assert subscriber.unsubscribed_at is not None


def test_the_page_button_post_without_csrf_token_unsubscribes_too() -> None:
    subscriber = SubscriberFactory.create()
    response = Client(enforce_csrf_checks=True).post(path_of(subscriber))
    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.UNSUBSCRIBED


def test_unsubscribing_twice_is_harmless(client: Client) -> None:
    subscriber = SubscriberFactory.create()
    assert client.post(path_of(subscriber)).status_code == 200
    assert client.post(path_of(subscriber)).status_code == 200


@pytest.mark.parametrize(
    "token",
    [
        "2a:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "not-a-token",
        "Zz" + unsubscribe_link.make(0x2A)[2:],  # the sealed payload altered
        confirm_link.make(0x2A),  # a confirm token is not an unsubscribe token
        "%00%ff",
    ],
)
def test_forged_or_altered_unsubscribe_tokens_get_400_never_500(client: Client, token: str) -> None:
    subscriber = SubscriberFactory.create()
    for method in (client.get, client.post):
        response = method(f"/newsletter/unsubscribe/{token}/")
        assert response.status_code in {400, 404}
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE


def test_a_left_subscriber_can_sign_up_again_and_confirm(
    client: Client, django_capture_on_commit_callbacks: CaptureOnCommit
) -> None:
    subscriber = SubscriberFactory.create(
        email="back@example.org", status=Subscriber.Status.UNSUBSCRIBED
    )
    # An old confirmation link does not bring a left subscriber back on its own.
    old_link = f"/newsletter/confirm/{confirm_link.make(subscriber.pk)}/"
    assert client.post(old_link).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/newsletter/", {"email": "back@example.org", "consent": "on", "source": "/"}
        )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.PENDING
    [message] = mail.outbox
    assert message.to == ["back@example.org"]
    assert client.post(old_link).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE


def test_pages_reached_by_a_token_link_are_never_cached(client: Client) -> None:
    subscriber = SubscriberFactory.create(status=Subscriber.Status.PENDING)
    for url in (path_of(subscriber), f"/newsletter/confirm/{confirm_link.make(subscriber.pk)}/"):
        cache_control = client.get(url)["Cache-Control"]
        assert "no-store" in cache_control
        assert "private" in cache_control
