"""Domain errors map to responses in one place; pages reached by a token stay private."""

from __future__ import annotations

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from donations.links import manage_link, reminder_stop_link
from newsletter.tokens import confirm_link, unsubscribe_link
from newsroom.error_responses import ApplicationErrorMiddleware, json_errors
from newsroom.errors import InvalidLink, RateLimited, RetryLater, TransientError

pytestmark = pytest.mark.django_db


def _answer(error: Exception, *, machine: bool = False) -> HttpResponse:
    def view(request: HttpRequest) -> HttpResponse:
        raise error

    request = RequestFactory().get("/")
    func = json_errors(view) if machine else view
    request.resolver_match = type("Match", (), {"func": func})()
    response = ApplicationErrorMiddleware(view).process_exception(request, error)
    assert response is not None
    return response


def test_a_transient_error_is_a_503_page_with_retry_after() -> None:
    response = _answer(TransientError())
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert "briefly unavailable" in response.content.decode().lower()


def test_an_invalid_link_is_a_400_page_that_says_so() -> None:
    response = _answer(InvalidLink("This confirmation link has expired."))
    assert response.status_code == 400
    assert "This confirmation link has expired." in response.content.decode()


def test_rate_limited_is_a_429_with_retry_after() -> None:
    response = _answer(RateLimited())
    assert response.status_code == 429
    assert response["Retry-After"] == "300"


def test_machine_callers_get_json() -> None:
    response = _answer(RetryLater(), machine=True)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "path",
    [
        lambda: f"/newsletter/confirm/{confirm_link.make(1)}/",
        lambda: f"/newsletter/unsubscribe/{unsubscribe_link.make(1)}/",
        lambda: f"/support/manage/{manage_link.make(1)}/",
        lambda: f"/support/remind-me/stop/{reminder_stop_link.make(1)}/",
        lambda: "/newsletter/issues/draft/not-a-token/",
        lambda: "/support/manage/not-a-token/",
    ],
)
def test_every_page_reached_by_a_token_is_no_store_and_never_refers_with_its_path(
    client: Client, path: object
) -> None:
    response = client.get(path())  # type: ignore[operator]
    assert "no-store" in response["Cache-Control"]
    assert response["Referrer-Policy"] == "strict-origin"


@pytest.mark.parametrize("token", ["garbage", "a" * 38, "%00", "x:y:z"])
def test_a_malformed_reminder_stop_link_shows_the_invalid_link_page(
    client: Client, token: str
) -> None:
    response = client.get(f"/support/remind-me/stop/{token}/")
    assert response.status_code == 400
    assert "This link does not work" in response.content.decode()
    assert "Do not remind me" not in response.content.decode()
    post = client.post(f"/support/remind-me/stop/{token}/")
    assert post.status_code == 400
    assert "Reminder cancelled" not in post.content.decode()


@pytest.mark.parametrize("token", ["garbage", "a" * 38, "x:y:z"])
def test_a_malformed_manage_link_shows_the_invalid_link_form(client: Client, token: str) -> None:
    response = client.get(f"/support/manage/{token}/")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert "Continue to manage my gift" not in response.content.decode()
