from __future__ import annotations

from typing import Any

import pytest
import time_machine
from django.core import mail, signing
from django.test import Client

from donations.links import manage_link, past_due_manage_link
from donations.models import RecurringDonation
from donations.standin import StripeStandin
from tests.donations.factories import DonorFactory, RecurringDonationFactory, make_donor

LEGACY_MANAGE_SALT = "donations.manage-link"

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]


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


def _gift(donor: object, customer: str) -> int:
    recurring = RecurringDonationFactory(donor=donor, stripe_customer_id=customer)
    assert isinstance(recurring, RecurringDonation)
    return recurring.pk


def test_magic_link_opens_the_page_and_the_portal_for_that_donors_customer_only(
    client: Client, stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> None:
    mine = _customer(stripe_standin, "giver@example.org")
    _customer(stripe_standin, "other@example.org")
    donor = make_donor(email="giver@example.org", stripe_customer_id=mine)
    gift = _gift(donor, mine)
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/support/manage/", {"email": "giver@example.org"})
    link = _link_from(str(mail.outbox[0].body))

    page = client.get(link)  # a mail scanner's prefetch opens nothing
    assert page.status_code == 200
    assert "Your gifts" in page.content.decode()
    assert stripe_standin.requests("/v1/billing_portal") == []

    response = client.post(f"{link}gifts/{gift}/card/")
    assert response.status_code == 303
    assert response["Location"].startswith(stripe_standin.url)
    [portal] = stripe_standin.requests("/v1/billing_portal/sessions")
    assert portal["params"]["customer"] == mine
    assert portal["params"]["flow_data"]["type"] == "payment_method_update"
    assert portal["params"]["return_url"] == f"http://testserver{link}"
    assert stripe_standin.url in response["Content-Security-Policy"]


def test_expired_magic_link_offers_a_fresh_one_and_opens_no_portal(
    client: Client, stripe_standin: StripeStandin
) -> None:
    donor = make_donor()
    gift = _gift(donor, _customer(stripe_standin, "x@example.org"))
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        token = manage_link.make(donor.pk)
    with time_machine.travel("2026-01-01 13:01Z", tick=False):
        page = client.get(f"/support/manage/{token}/")
        response = client.post(f"/support/manage/{token}/gifts/{gift}/card/")
    assert page.status_code == response.status_code == 400
    assert "expired" in page.content.decode()
    assert "Email me a fresh link" in page.content.decode()
    assert stripe_standin.requests("/v1/billing_portal") == []


def test_link_still_works_just_before_it_expires(
    client: Client, stripe_standin: StripeStandin
) -> None:
    donor = make_donor()
    gift = _gift(donor, _customer(stripe_standin, "x@example.org"))
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        token = manage_link.make(donor.pk)
    with time_machine.travel("2026-01-01 12:59Z", tick=False):
        assert client.get(f"/support/manage/{token}/").status_code == 200
        assert client.post(f"/support/manage/{token}/gifts/{gift}/card/").status_code == 303


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
    donor = make_donor()
    gift = _gift(donor, _customer(stripe_standin, "x@example.org"))
    page = client.get(f"/support/manage/{forge(donor)}/")
    response = client.post(f"/support/manage/{forge(donor)}/gifts/{gift}/card/")
    assert page.status_code == response.status_code == 400
    assert "not valid" in page.content.decode()
    assert "Your gifts" not in page.content.decode()
    assert stripe_standin.requests("/v1/billing_portal") == []


def test_one_donors_link_cannot_open_another_donors_portal(
    client: Client, stripe_standin: StripeStandin
) -> None:
    alice = make_donor()
    bob = make_donor()
    _gift(alice, _customer(stripe_standin, "alice@example.org"))
    bobs = _gift(bob, _customer(stripe_standin, "bob@example.org"))
    response = client.post(f"/support/manage/{manage_link.make(alice.pk)}/gifts/{bobs}/card/")
    assert response.status_code == 400
    assert stripe_standin.requests("/v1/billing_portal") == []


def test_a_donor_with_two_recurring_gifts_reaches_the_portal_of_each_gifts_customer(
    client: Client, stripe_standin: StripeStandin
) -> None:
    """Issue #11.4: each recurring checkout makes its own Stripe customer; the page offers
    "Update card" per gift, and each opens the portal of that gift's customer."""
    donor = make_donor(stripe_customer_id=None)
    older = _gift(donor, _customer(stripe_standin, "two@example.org"))
    newer = _gift(donor, _customer(stripe_standin, "two@example.org"))
    token = manage_link.make(donor.pk)
    page = client.get(f"/support/manage/{token}/").content.decode()
    assert f"/gifts/{older}/card/" in page
    assert f"/gifts/{newer}/card/" in page

    for gift in (older, newer):
        assert client.post(f"/support/manage/{token}/gifts/{gift}/card/").status_code == 303
    portals = stripe_standin.requests("/v1/billing_portal/sessions")
    expected = [
        RecurringDonation.objects.get(pk=gift).stripe_customer_id for gift in (older, newer)
    ]
    assert [p["params"]["customer"] for p in portals] == expected
    assert len(set(expected)) == 2


def test_erasing_a_donor_makes_a_link_sent_before_open_nothing(
    client: Client, stripe_standin: StripeStandin
) -> None:
    from newsroom.personal_data import personal_data_erase

    donor = make_donor(email="gone@example.org")
    gift = _gift(donor, _customer(stripe_standin, "gone@example.org"))
    token = past_due_manage_link.make(donor.pk)
    personal_data_erase(donor=donor)

    assert client.get(f"/support/manage/{token}/").status_code == 400
    assert client.post(f"/support/manage/{token}/gifts/{gift}/card/").status_code == 400
    assert stripe_standin.requests("/v1/billing_portal") == []


def test_manage_requests_are_rate_limited(client: Client, settings: Any) -> None:
    settings.DONATIONS_EMAIL_RATE = "2/m"
    codes = [client.post("/support/manage/", {"email": "a@example.org"}).status_code for _ in "abc"]
    assert codes == [200, 200, 429]
    assert "Please wait" in client.post("/support/manage/", {"email": "a@b.org"}).content.decode()


def test_fix_your_card_link_lasts_days_while_an_ordinary_link_lasts_an_hour(
    client: Client,
) -> None:
    donor = make_donor()
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        ordinary = manage_link.make(donor.pk)
        past_due = past_due_manage_link.make(donor.pk)
    with time_machine.travel("2026-01-07 12:00Z", tick=False):
        assert client.get(f"/support/manage/{ordinary}/").status_code == 400
        assert client.get(f"/support/manage/{past_due}/").status_code == 200
    with time_machine.travel("2026-01-08 12:01Z", tick=False):
        assert client.get(f"/support/manage/{past_due}/").status_code == 400


def test_an_expired_link_mails_a_fresh_one_to_the_donors_own_address(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    donor = make_donor(email="late@example.org")
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        token = manage_link.make(donor.pk)
    with (
        time_machine.travel("2026-01-03 12:00Z", tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = client.post(f"/support/manage/{token}/renew/")
    assert response.status_code == 200
    assert "Check your inbox" in response.content.decode()
    [sent] = mail.outbox
    assert sent.to == ["late@example.org"]
    fresh = _link_from(str(sent.body))
    assert fresh != f"/support/manage/{token}/"
    with time_machine.travel("2026-01-03 12:05Z", tick=False):
        assert client.get(fresh).status_code == 200


def test_a_link_too_old_or_forged_cannot_ask_for_a_fresh_one(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    donor = make_donor(email="old@example.org")
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        token = manage_link.make(donor.pk)
    with (
        time_machine.travel("2026-03-01 12:00Z", tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        old = client.post(f"/support/manage/{token}/renew/")
        forged = client.post(f"/support/manage/{token[:-2]}xx/renew/")
    assert old.status_code == forged.status_code == 400
    assert mail.outbox == []


def test_fresh_links_share_the_per_address_mail_cap(
    client: Client, settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.MAIL_PER_ADDRESS_PER_HOUR = 2
    donor = make_donor(email="capped@example.org")
    with time_machine.travel("2026-01-01 12:00Z", tick=False):
        token = manage_link.make(donor.pk)
    with (
        time_machine.travel("2026-01-02 12:00Z", tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        client.post("/support/manage/", {"email": "capped@example.org"})
        answers = [client.post(f"/support/manage/{token}/renew/") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]  # the same page either way
    assert len(mail.outbox) == 2
