from __future__ import annotations

import json
import re
from pathlib import Path

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
    assert 'action="/newsletter/"' in html  # the sign-up form posts from any page...
    assert 'name="csrfmiddlewaretoken"' not in html  # ...checked for its origin, not a token
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


def _readme_health_answers() -> list[dict[str, object]]:
    """The JSON bodies the README's Production section promises for /healthz."""
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    health = readme.split("- **Health**:", 1)[1].split("\n- **", 1)[0]
    return [json.loads(body) for body in re.findall(r"`(\{.*?\})`", health, re.S)]


@pytest.mark.django_db
def test_healthz_answers_what_the_readme_says(client: Client) -> None:
    healthy, broker_down = _readme_health_answers()
    assert client.get("/healthz").json() == healthy
    original = app.conf.broker_url
    app.conf.update(broker_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        response = client.get("/healthz")
    finally:
        app.conf.update(broker_url=original)
    assert response.status_code == 503
    assert response.json() == broker_down


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


@pytest.mark.django_db
def test_the_thank_you_page_says_every_friday_once(client: Client) -> None:
    html = client.get("/support/thank-you/").content.decode()
    assert html.count("every Friday") == 1


TEMPLATE_DIRS = ("donations", "newsletter", "newsroom")


def test_no_copy_puts_the_before_the_site_name() -> None:
    """SITE_NAME may begin with "The" ("the The Independent Ledger")."""
    root = Path(__file__).resolve().parents[2]
    doubled = re.compile(r"\bthe\s+(\{\{\s*site_name|\{site\}|\{settings\.site_name)", re.I)
    offenders = [
        str(path.relative_to(root))
        for folder in TEMPLATE_DIRS
        for path in (root / folder).rglob("*")
        if path.suffix in {".html", ".txt", ".py"} and doubled.search(path.read_text("utf-8"))
    ]
    assert offenders == []
