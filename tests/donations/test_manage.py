from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core import mail, signing
from django.test import Client

from donations.links import manage_link, past_due_manage_link
from donations.standin import StripeStandin
from tests.donations.factories import DonorFactory, RecurringDonationFactory, make_donor

LEGACY_MANAGE_SALT = "donations.manage-link"

pytestmark = pytest.mark.django_db


def _link_from(body: str) -> str:
    line = next(line for line in body.splitlines() if "/support/manage/" in line)
    return line.strip().removeprefix("http://testserver")


def _customer(standin: StripeStandin, email: str) -> str:
    from donations.stripe_client import calls

    client = calls._client()
    return str(client.v1.customers.create({"email": email})["id"])


def test_manage_request_answers_the_same_for_donors_and_strangers(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    DonorFactory(email="giver@example.org")
    with django_capture_on_commit_callbacks(execute=True):
        known = client.post("/support/manage/", {"email": "Giver@Example.org"})
        unknown = client.post("/support/manage/", {"email": "nobody@example.org"})

    assert known.status_code == unknown.status_code == 200
    assert known.content == unknown.content
    assert [m.to for m in mail.outbox] == [["giver@example.org"]]


def test_magic_link_opens_the_portal_for_that_donors_customer_only(
    client: Client, stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> None:
    mine = _customer(stripe_standin, "giver@example.org")
    _customer(stripe_standin, "other@example.org")
    donor = make_donor(email="giver@example.org", stripe_customer_id=mine)
    RecurringDonationFactory(donor=donor, stripe_customer_id=mine)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/support/manage/", {"email": "giver@example.org"})
    link = _link_from(str(mail.outbox[0].body))

    confirm = client.get(link)  # a mail scanner's prefetch opens nothing
    assert confirm.status_code == 200
    assert stripe_standin.requests("/v1/billing_portal") == []

    response = client.post(link)
    assert response.status_code == 303
    assert response["Location"].startswith(stripe_standin.url)
    [portal] = stripe_standin.requests("/v1/billing_portal/sessions")
    assert portal["params"]["customer"] == mine
    assert stripe_standin.url in response["Content-Security-Policy"]


def test_expired_magic_link_is_refused_and_opens_no_portal(
    client: Client, stripe_standin: StripeStandin
) -> None:
    donor = make_donor()
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        token = manage_link.make(donor.pk)
    with time_machine.travel("2026-01-01 13:01Z", tick=False):
        response = client.post(f"/support/manage/{token}/")
    assert response.status_code == 400
    assert "expired" in response.content.decode()
    assert stripe_standin.requests("/v1/billing_portal") == []


def test_link_still_works_just_before_it_expires(
    client: Client, stripe_standin: StripeStandin
) -> None:
    donor = make_donor(stripe_customer_id=_customer(stripe_standin, "x@example.org"))
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        token = manage_link.make(donor.pk)
    with time_machine.travel("2026-01-01 12:59Z", tick=False):
        assert client.post(f"/support/manage/{token}/").status_code == 303


@pytest.mark.parametrize(
    "forge",
    [
        lambda donor: signing.dumps({"donor": donor.pk}, salt="another-salt"),
        lambda donor: signing.dumps(
            {"donor": donor.pk}, salt=LEGACY_MANAGE_SALT, key="not-our-key"
        ),
        lambda donor: manage_link.make(donor.pk)[:-2] + "xx",
        lambda donor: "garbage",
    ],
)
def test_forged_magic_link_is_refused_and_opens_no_portal(
    client: Client, stripe_standin: StripeStandin, forge: Any
) -> None:
    donor = make_donor(stripe_customer_id=_customer(stripe_standin, "x@example.org"))
    response = client.post(f"/support/manage/{forge(donor)}/")
    assert response.status_code == 400
    assert "not valid" in response.content.decode()
    assert stripe_standin.requests("/v1/billing_portal") == []


def test_one_donors_link_cannot_open_another_donors_portal(
    client: Client, stripe_standin: StripeStandin
) -> None:
    alice = make_donor(stripe_customer_id=_customer(stripe_standin, "alice@example.org"))
    bob = make_donor(stripe_customer_id=_customer(stripe_standin, "bob@example.org"))
    client.post(f"/support/manage/{manage_link.make(alice.pk)}/")
    [portal] = stripe_standin.requests("/v1/billing_portal/sessions")
    assert portal["params"]["customer"] == alice.stripe_customer_id != bob.stripe_customer_id


def test_manage_requests_are_rate_limited(client: Client, settings: Any) -> None:
    settings.DONATIONS_EMAIL_RATE = "2/m"
    codes = [client.post("/support/manage/", {"email": "a@example.org"}).status_code for _ in "abc"]
    assert codes == [200, 200, 429]
    assert "Please wait" in client.post("/support/manage/", {"email": "a@b.org"}).content.decode()


def test_fix_your_card_link_lasts_days_while_an_ordinary_link_lasts_an_hour(
    client: Client, stripe_standin: StripeStandin
) -> None:
    donor = make_donor(stripe_customer_id=_customer(stripe_standin, "late@example.org"))
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        ordinary = manage_link.make(donor.pk)
        past_due = past_due_manage_link.make(donor.pk)
    with time_machine.travel("2026-01-07 12:00Z", tick=False):
        assert client.post(f"/support/manage/{ordinary}/").status_code == 400
        assert client.post(f"/support/manage/{past_due}/").status_code == 303
    with time_machine.travel("2026-01-08 12:01Z", tick=False):
        assert client.post(f"/support/manage/{past_due}/").status_code == 400
