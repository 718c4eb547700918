"""The banner under an article comes from a fragment rendered once per appeal snapshot, variant
and currency, filled in per view: it must be exactly what the template renders for that
reader, with its own CSRF token, form attempt and page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.http import HttpRequest
from django.template import RequestContext, Template
from django.template.loader import render_to_string
from django.test import Client, RequestFactory

from donations.appeals.models import Appeal
from newsletter.templatetags.newsletter_tags import SIGNUP_BOX_TEMPLATE
from newsroom.fragments import render_fragment
from tests.donations.appeals.experiments import two_variants

pytestmark = pytest.mark.django_db

TAGS = "{% load donations_tags newsletter_tags %}{% support_banner %}{% newsletter_signup_box %}"
PER_VIEW = re.compile(r'(name="(?:csrfmiddlewaretoken|attempt)" value=")[^"]*"')


def _render(request: HttpRequest, **context: object) -> str:
    return PER_VIEW.sub(r'\1…"', Template(TAGS).render(RequestContext(request, context)))


def _both(request: HttpRequest) -> tuple[str, str]:
    """(under an article: the fragment, the template rendered for the same reader); a posted
    choice of nothing takes the template's path and changes nothing else."""
    return _render(request), _render(request, support_choice={})


READERS = [
    {"HTTP_ACCEPT_LANGUAGE": "en-US"},
    {"HTTP_ACCEPT_LANGUAGE": "de-DE,de;q=0.9"},
    {"HTTP_ACCEPT_LANGUAGE": "en-GB"},
    {"HTTP_COOKIE": "support_currency=gbp"},
    {"HTTP_COOKIE": "support_reminder=1"},
    {"HTTP_COOKIE": "support_given=1"},
    {"HTTP_ACCEPT_LANGUAGE": "en-US"},  # again, now from the fragment cached above
]


def test_the_article_banner_is_what_the_template_renders_for_each_reader(
    rf: RequestFactory,
) -> None:
    shown = set()
    for headers in READERS:  # one appeal snapshot: fragments cached per currency and state
        request = rf.get("/2026/11/rivers & <courts>/", **headers)  # type: ignore[arg-type]
        fragment, template = _both(request)
        assert fragment == template, headers
        shown.add(fragment)
        if "support_" not in headers.get("HTTP_COOKIE", ""):
            assert 'name="source_page" value="/2026/11/rivers &amp; &lt;courts&gt;/"' in fragment
            assert "<courts>" not in fragment
    assert len(shown) == 5  # usd, eur, gbp, reminded, given


def test_each_variant_of_a_running_experiment_renders_as_the_template_does(
    rf: RequestFactory,
) -> None:
    _, variants = two_variants()
    for variant in variants:
        request = rf.get("/", HTTP_COOKIE=f"support_variant={variant.pk}")
        fragment, template = _both(request)
        assert fragment == template
        assert f'data-variant="{variant.pk}"' in fragment
    assert "Ten seconds of your time" in fragment  # the last variant's own heading


def test_a_banner_switched_off_renders_nothing_either_way(rf: RequestFactory) -> None:
    Appeal.objects.filter(is_live=True).update(show_banner=False)
    fragment, template = _both(rf.get("/"))
    assert fragment == template
    assert "support-banner" not in fragment


def test_every_view_has_its_own_attempt_and_forms_that_need_no_token(client: Client) -> None:
    reader = Client(enforce_csrf_checks=True)
    pages = [reader.get("/").content.decode() for _ in range(2)]
    attempts = [re.findall(r'name="attempt" value="([0-9a-f]{32})"', page) for page in pages]
    assert len(attempts[0]) == len(attempts[1]) == 1
    assert attempts[0] != attempts[1]
    assert "csrfmiddlewaretoken" not in pages[1]  # reader forms: newsroom.same_origin
    answer = reader.post(
        "/support/remind-me/",
        {"email": "reader@example.org", "source_page": "/"},
        HTTP_ORIGIN="http://testserver",
    )
    assert answer.status_code == 200
    assert "We will remind you" in answer.content.decode()


def test_a_fragment_escapes_its_values_as_the_template_does() -> None:
    values = {"source": "/a\"b'<c>&d/", "request": None}
    fragment = render_fragment(SIGNUP_BOX_TEMPLATE, values, ("source",))
    assert fragment.slots == ("source",)
    assert fragment.fill(values) == render_to_string(SIGNUP_BOX_TEMPLATE, values)
    assert 'value="/a&quot;b&#x27;&lt;c&gt;&amp;d/"' in fragment.fill(values)


def test_a_warm_article_page_reads_no_table(
    django_assert_num_queries: Any, django_capture_on_commit_callbacks: Any
) -> None:
    Client().get("/")  # warm: the appeal snapshot loaded, fragments rendered
    with django_assert_num_queries(0):
        assert Client().get("/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        two_variants()
    for _ in range(3):  # a new snapshot: its first view reloads, then none does
        Client().get("/")
    with django_assert_num_queries(0):
        page = Client().get("/").content.decode()
    assert 'name="variant" value="' in page
