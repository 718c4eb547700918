"""What readers and staff see around the pages: errors, the icon, the admin's name, login."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.template.loader import render_to_string
from django.test import Client, override_settings


@pytest.mark.django_db
def test_a_missing_page_gets_the_sites_own_404_without_echoing_the_address(
    client: Client,
) -> None:
    response = client.get("/newsletter/unsubscribe/some-token/extra/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "find that page" in html
    assert settings.SITE_NAME in html
    assert "newsroom/site.css" in html
    assert 'href="/"' in html
    assert "some-token" not in html


@override_settings(ROOT_URLCONF="tests.newsroom.failing_urls")
def test_a_server_error_gets_the_sites_own_500_without_the_database() -> None:
    """No django_db mark: any query here would fail the test."""
    client = Client(raise_request_exception=False)
    response = client.get("/broken/")
    assert response.status_code == 500
    html = response.content.decode()
    assert "Something went wrong on our side" in html
    assert settings.SITE_NAME in html
    assert "newsroom/site.css" in html
    assert "newsroom/favicon.svg" in html
    assert "a bug" not in html
    assert "Traceback" not in html


def test_the_500_page_renders_with_no_request_and_no_context() -> None:
    html = render_to_string("500.html")
    assert "Something went wrong on our side" in html


@pytest.mark.django_db
def test_every_page_links_the_favicon_served_from_this_site(client: Client) -> None:
    html = client.get("/").content.decode()
    assert '<link rel="icon" href="/static/newsroom/favicon.svg" type="image/svg+xml">' in html
    icon = client.get("/static/newsroom/favicon.svg")
    assert icon.status_code == 200
    assert b"<svg" in b"".join(icon.streaming_content)  # type: ignore[attr-defined]
    fallback = client.get("/favicon.ico")  # what the admin's pages make browsers ask for
    assert fallback.status_code == 301
    assert fallback["Location"] == "/static/newsroom/favicon.svg"


def _staff(client: Client) -> Any:
    user = get_user_model().objects.create_user(
        "editor", "editor@example.org", "a-long-enough-password", is_staff=True
    )
    return user


@pytest.mark.django_db
def test_the_admin_says_the_newsrooms_name(client: Client) -> None:
    client.force_login(_staff(client))
    html = client.get("/admin/").content.decode()
    assert f'<a href="/admin/">{settings.SITE_NAME}</a>' in html
    assert f"<title>Donations and newsletter | {settings.SITE_NAME} staff</title>" in html
    assert "Django administration" not in html
    login = Client().get("/admin/login/").content.decode()
    assert settings.SITE_NAME in login
    assert "Django administration" not in login


@pytest.mark.django_db
@pytest.mark.parametrize("next_url", ["", "https://elsewhere.example/", "//elsewhere.example/"])
def test_after_login_staff_land_on_the_admin(client: Client, next_url: str) -> None:
    _staff(client)
    response = client.post(
        f"/admin/login/?next={next_url}",
        {"username": "editor", "password": "a-long-enough-password", "next": next_url},
    )
    assert response.status_code == 302
    assert response["Location"] == "/admin/"


@pytest.mark.django_db
def test_the_csrf_cookie_lives_for_the_browser_session_only(client: Client) -> None:
    response = client.get("/support/manage/")  # the donor page's request form
    cookie = response.cookies[settings.CSRF_COOKIE_NAME]
    assert cookie.value
    assert cookie["max-age"] == ""
    assert cookie["expires"] == ""
