"""The demo article is rendered once per process with the banner and the newsletter box as
slots: every reader must still get exactly what the template renders for them."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory, override_settings

from tests.donations.appeals.experiments import two_variants

pytestmark = pytest.mark.django_db

PER_VIEW = re.compile(r'(name="(?:csrfmiddlewaretoken|attempt)" value=")[^"]*"')
READERS = [
    {"HTTP_ACCEPT_LANGUAGE": "en-GB"},
    {"HTTP_ACCEPT_LANGUAGE": "de-DE"},
    {"HTTP_COOKIE": "support_reminder=1"},
    {},
]


def _same(page: str) -> str:
    return PER_VIEW.sub(r'\1…"', page)


def _compare(rf: RequestFactory, headers: dict[str, str]) -> str:
    served = Client().get("/", **headers).content.decode()  # type: ignore[arg-type]
    rendered = render_to_string("pages/article.html", request=rf.get("/", **headers))  # type: ignore[arg-type]
    assert _same(served) == _same(rendered), headers
    return served


def test_the_article_is_what_its_template_renders_for_each_reader(
    rf: RequestFactory, django_capture_on_commit_callbacks: Any
) -> None:
    for headers in READERS:
        _compare(rf, headers)
    with django_capture_on_commit_callbacks(execute=True):  # starting it bumps the version
        _, variants = two_variants()
    served = [_compare(rf, {"HTTP_COOKIE": f"support_variant={v.pk}"}) for v in variants]
    assert "Ten seconds of your time" in served[1]  # variant B's own heading
    assert "Ten seconds of your time" not in served[0]


def test_a_changed_setting_shows_on_the_next_view(client: Client) -> None:
    assert "The Other Paper" not in client.get("/").content.decode()
    with override_settings(SITE_NAME="The Other Paper"):
        assert "<title>Court hears the case against the river dam reporters — The Other Paper" in (
            client.get("/").content.decode()
        )
