from __future__ import annotations

import pytest
from django.db import connection
from django.db.utils import OperationalError
from django.template import RequestContext, Template
from django.test import Client, RequestFactory

from newsroom.celery_app import app


@pytest.mark.django_db
def test_demo_article_renders_the_support_banner_and_the_newsletter_box(client: Client) -> None:
    html = client.get("/").content.decode()
    assert "Support us monthly starting from just $2" in html
    for label in ("Once", "Monthly", "Annual", "Continue", "Remind me later"):
        assert label in html
    assert "Not ready to support today?" in html
    assert "Sign up for our free weekly newsletter" in html
    assert "every Friday" in html
    assert 'href="/privacy/"' in html
    assert 'class="payment-methods"' in html
    assert "Subscribers agree to the" in html
    assert 'href="/newsletter/preview/">Preview</a>' in html


@pytest.mark.django_db
def test_a_news_sites_own_page_embeds_the_banner_and_the_box_with_two_tags(
    rf: RequestFactory,
) -> None:
    page = Template(
        "{% load donations_tags newsletter_tags %}"
        "<article>Someone else's story</article>{% support_banner %}{% newsletter_signup_box %}"
    )
    request = rf.get("/2026/11/some-story/")
    html = page.render(RequestContext(request, {}))
    assert "Support us monthly starting from just $2" in html
    assert "Remind me later" in html
    assert 'class="newsletter-box"' in html
    assert 'name="csrfmiddlewaretoken"' in html  # the sign-up form posts from any page
    assert 'name="source" value="/2026/11/some-story/"' in html  # consent records where


@pytest.mark.django_db
def test_privacy_page_is_public(client: Client) -> None:
    response = client.get("/privacy/")
    assert response.status_code == 200
    assert b"Privacy Policy" in response.content


@pytest.mark.django_db
def test_healthz_reports_database_and_broker_reachable(client: Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": True, "broker": True}


@pytest.mark.django_db
def test_healthz_answers_503_when_the_broker_is_unreachable(client: Client) -> None:
    original = app.conf.broker_url
    app.conf.update(broker_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        response = client.get("/healthz")
    finally:
        app.conf.update(broker_url=original)
    assert response.status_code == 503
    assert response.json()["broker"] is False


@pytest.mark.django_db
def test_healthz_answers_503_when_the_database_is_unreachable(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse() -> None:
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] is False


@pytest.mark.django_db
def test_pages_send_a_content_security_policy_without_third_parties(client: Client) -> None:
    policy = client.get("/")["Content-Security-Policy"]
    directives = {
        name: sources
        for name, *sources in (part.split() for part in policy.split(";") if part.strip())
    }
    assert directives["default-src"] == ["'self'"]
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["img-src"] == ["'self'", "data:"]  # no pixel from any other host
