"""Forms that act on a session or a signed link are CSRF-protected; the reader's anonymous forms
under an article (checkout, "Update amounts", remind me, newsletter sign-up) are refused when
the browser says another site sent them (`newsroom.same_origin`); the Stripe webhook is exempt
(its signature authenticates it)."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail
from django.test import Client, override_settings

from donations.links import manage_link, reminder_stop_url
from donations.models import Reminder
from donations.services.reminders import reminder_create
from donations.standin import StripeStandin
from newsletter.models import Subscriber
from tests.donations.appeals.experiments import two_variants
from tests.donations.factories import RecurringDonationFactory, make_donor
from tests.donations.stripe_events import post_event, stripe_event

pytestmark = pytest.mark.django_db

GIFT = {"frequency": "monthly", "currency": "usd", "amount": "5", "source_page": "/"}
SIGN_UP = {"email": "reader@example.org", "consent": "on", "source": "/", "website": ""}
READER_FORMS = [  # path, data, the status of a post that went through
    ("/support/checkout/", GIFT, 303),
    ("/support/", GIFT, 200),  # "Update amounts"
    ("/support/remind-me/", {"email": "later@example.org", "source_page": "/"}, 200),
    ("/newsletter/", SIGN_UP, 200),
]
CROSS_SITE = [
    {"HTTP_ORIGIN": "https://evil.example.net"},
    {"HTTP_ORIGIN": "null"},  # a sandboxed frame, a data: URL
    {"HTTP_SEC_FETCH_SITE": "cross-site"},
    {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "cross-site"},
    {"HTTP_ORIGIN": "https://testserver"},  # the other scheme is another origin
]
SAME_SITE = [
    {},  # an old browser, or a script: it could post anyway
    {"HTTP_ORIGIN": "http://testserver", "HTTP_SEC_FETCH_SITE": "same-origin"},
    {"HTTP_SEC_FETCH_SITE": "same-origin"},
    {"HTTP_SEC_FETCH_SITE": "none"},  # typed or bookmarked by the reader
]


def _checkout_posts(standin: StripeStandin) -> list[dict[str, Any]]:
    return [r for r in standin.requests("/v1/checkout/sessions") if r["method"] == "POST"]


def test_posts_without_a_csrf_token_to_session_or_link_forms_are_refused_and_change_nothing(
    stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> None:
    donor = make_donor(email="donor@example.org")
    RecurringDonationFactory(donor=donor, stripe_customer_id=donor.stripe_customer_id)
    reminder = reminder_create(email="later@example.org")
    assert reminder is not None
    opt_out = reminder_stop_url(reminder_id=reminder.pk).removeprefix("http://testserver")
    portal = f"/support/manage/{manage_link.make(donor.pk)}/"
    forged = Client(enforce_csrf_checks=True)

    with django_capture_on_commit_callbacks(execute=True):
        statuses = [
            forged.post("/support/manage/", {"email": "donor@example.org"}).status_code,
            forged.post(portal).status_code,
            forged.post(opt_out).status_code,
        ]

    assert statuses == [403] * 3
    assert not stripe_standin.requests("/v1/billing_portal/sessions")
    assert list(Reminder.objects.values_list("email", "opted_out_at")) == [
        ("later@example.org", None)
    ]
    assert mail.outbox == []


@pytest.mark.parametrize("headers", CROSS_SITE)
@pytest.mark.parametrize(("path", "data", "_"), READER_FORMS)
def test_a_cross_site_post_to_a_reader_form_is_refused_with_403_and_does_nothing(
    stripe_standin: StripeStandin,
    django_capture_on_commit_callbacks: Any,
    path: str,
    data: dict[str, str],
    _: int,
    headers: dict[str, str],
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = Client(enforce_csrf_checks=True).post(path, data, **headers)  # type: ignore[arg-type]

    assert response.status_code == 403
    assert "sent from another website" in response.content.decode()
    assert not response.cookies
    assert _checkout_posts(stripe_standin) == []
    assert not Reminder.objects.exists()
    assert not Subscriber.objects.exists()
    assert mail.outbox == []


@pytest.mark.parametrize("headers", SAME_SITE)
@pytest.mark.parametrize(("path", "data", "status"), READER_FORMS)
def test_a_same_origin_or_header_less_post_to_a_reader_form_works_without_a_token(
    stripe_standin: StripeStandin,
    path: str,
    data: dict[str, str],
    status: int,
    headers: dict[str, str],
) -> None:
    response = Client(enforce_csrf_checks=True).post(path, data, **headers)  # type: ignore[arg-type]

    assert response.status_code == status
    assert "csrftoken" not in response.cookies
    if path == "/support/checkout/":
        assert len(_checkout_posts(stripe_standin)) == 1


@override_settings(CSRF_TRUSTED_ORIGINS=["https://news.example.org"])
def test_a_trusted_origin_may_post_the_checkout(stripe_standin: StripeStandin) -> None:
    """Behind a proxy that rewrites the host, the site's public origin is the trusted one."""
    reader = Client(enforce_csrf_checks=True, HTTP_ORIGIN="https://news.example.org")
    assert reader.post("/support/checkout/", GIFT).status_code == 303
    assert len(_checkout_posts(stripe_standin)) == 1


def test_an_articles_first_visit_makes_no_csrf_token_and_sets_no_cookie() -> None:
    first = Client().get("/")
    assert first.status_code == 200
    assert 'class="support-form"' in first.content.decode()
    assert 'class="signup-form"' in first.content.decode()
    assert "csrfmiddlewaretoken" not in first.content.decode()
    assert not first.cookies
    assert "Cookie" not in first.get("Vary", "")


def test_with_an_experiment_an_articles_first_visit_sets_the_variant_cookie_alone() -> None:
    two_variants()
    assert set(Client().get("/").cookies) == {"support_variant"}


def test_the_signed_stripe_webhook_needs_no_csrf_token() -> None:
    stripe = Client(enforce_csrf_checks=True)
    assert post_event(stripe, stripe_event("checkout_session_completed_once")).status_code == 200
