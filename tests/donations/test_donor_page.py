"""The donor's page through the real views and the Stripe stand-in: every gift with its state,
receipts and statements as PDFs, changes that reach Stripe and come back through the webhook."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from typing import Any

import pypdf
import pytest
from django.core import mail
from django.test import Client, override_settings
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from donations.links import manage_link
from donations.models import Donation, RecurringChange, RecurringDonation
from donations.standin import StripeStandin
from donations.stripe_client import calls
from tests.donations.donor_flow import Donor as Giver
from tests.donations.donor_flow import confirm_fields, gifts_on
from tests.donations.factories import RecurringDonationFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]

EMAIL = "giver@example.org"


@pytest.fixture
def donor(
    client: Client, stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> Giver:
    return Giver(client, stripe_standin, django_capture_on_commit_callbacks, EMAIL)


def _refund(donor: Giver, session_id: str) -> None:
    intent = Donation.objects.get(stripe_checkout_session_id=session_id).stripe_payment_intent_id
    calls._client().v1.refunds.create({"payment_intent": intent or ""})
    donor.deliver()


def _four_gifts(donor: Giver) -> None:
    donor.give("2026-03-01 10:00Z", frequency="once", amount="25", currency="usd")
    donor.give("2026-03-02 10:00Z", frequency="monthly", amount="5", currency="usd")
    donor.give("2026-03-03 10:00Z", frequency="annual", amount="100", currency="eur")
    refunded = donor.give("2026-03-04 10:00Z", frequency="once", amount="10", currency="gbp")
    with donor.at("2026-03-05 10:00Z"):
        _refund(donor, refunded)


def test_one_time_two_recurring_in_two_currencies_and_a_refunded_gift_with_their_states(
    client: Client, donor: Giver
) -> None:
    _four_gifts(donor)
    with donor.at("2026-03-06 10:00Z"):
        link = donor.link()
        response = client.get(link)
    page = response.content.decode()

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    assert gifts_on(page) == [
        ("10.00", "GBP", "once", "refunded"),
        ("100.00", "EUR", "annual", "active"),
        ("5.00", "USD", "monthly", "active"),
        ("25.00", "USD", "once", "paid"),
    ]
    # The next charge of each recurring gift, stored from its subscription's events.
    assert re.search(r'class="next-charge" datetime="2026-04-01T10:00:00\+00:00"', page)
    assert re.search(r'class="next-charge" datetime="2027-03-03T10:00:00\+00:00"', page)
    # Receipts: the paid one-time gift and each recurring gift's first payment.
    assert len(re.findall(r"receipts/\d+/pdf/", page)) == 3
    assert len(re.findall(r"statements/2026/(usd|eur)/pdf/", page)) == 2
    assert EMAIL not in page  # the page names no address (a forwarded link tells nothing)


def test_reading_the_page_changes_nothing(client: Client, donor: Giver) -> None:
    donor.give("2026-03-02 10:00Z", frequency="monthly", amount="5", currency="usd")
    with donor.at("2026-03-06 10:00Z"):
        link = donor.link()
        before = len(donor.standin.requests())
        for _ in range(3):  # a mail scanner prefetching, then the donor
            assert client.get(link).status_code == 200
            assert client.head(link).status_code == 200
    assert len(donor.standin.requests()) == before
    assert not RecurringChange.objects.exists()


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(data)).pages)


def test_receipt_and_statement_pdfs_parse_with_the_right_totals(
    client: Client, donor: Giver, settings: Any
) -> None:
    settings.NEWSROOM_LEGAL_NAME = "Ledger Media Foundation"
    settings.NEWSROOM_REGISTRATION_NUMBER = "CH-123.456.789"
    settings.NEWSROOM_POSTAL_ADDRESS = "PO Box 1234, 1000 Freetown"
    donor.give("2026-03-01 10:00Z", frequency="once", amount="25", currency="usd")
    donor.give("2026-03-02 10:00Z", frequency="monthly", amount="5", currency="usd")
    donor.give("2026-03-03 10:00Z", frequency="annual", amount="100", currency="eur")
    refunded = donor.give("2026-03-04 10:00Z", frequency="once", amount="10", currency="usd")
    with donor.at("2026-04-01 10:00Z"):
        donor.standin.renew(
            RecurringDonation.objects.get(frequency="monthly").stripe_subscription_id
        )
        donor.deliver()
        _refund(donor, refunded)
    with donor.at("2026-04-02 10:00Z"):
        link = donor.link()
        page = client.get(link).content.decode()
        once = Donation.objects.get(frequency="once", currency="usd", status="paid")
        receipt = client.get(f"{link}receipts/{once.pk}/pdf/")
        printable = client.get(f"{link}receipts/{once.pk}/")
        usd = client.get(f"{link}statements/2026/usd/pdf/")
        eur = client.get(f"{link}statements/2026/eur/pdf/")
        refunded_receipt = client.get(
            f"{link}receipts/{Donation.objects.get(status='refunded').pk}/pdf/"
        )

    assert f"{link}statements/2026/usd/pdf/" in page
    assert receipt["Content-Type"] == "application/pdf"
    assert receipt["Content-Disposition"].startswith("attachment;")
    text = _pdf_text(receipt.content)
    for expected in (
        "Ledger Media Foundation", "CH-123.456.789", "PO Box 1234", "25.00 USD",
        f"2026-{once.pk:06d}", "1 March 2026",
    ):  # fmt: skip
        assert expected in text
    assert "25.00 USD" in printable.content.decode()
    assert "Download as PDF" in printable.content.decode()

    usd_text = _pdf_text(usd.content)
    assert "Total 2026" in usd_text
    assert "35.00 USD" in usd_text  # 25 once + 5 + 5 monthly; the refunded 10 is no gift
    assert usd_text.count("5.00 USD") >= 2
    assert "10.00 USD" not in usd_text
    assert "CH-123.456.789" in usd_text
    assert "100.00 EUR" in _pdf_text(eur.content)
    assert refunded_receipt.status_code == 404
    assert client.get(f"{link}statements/2025/usd/pdf/").status_code in {400, 404}


def test_another_donors_receipt_is_not_reachable_with_my_link(
    client: Client,
    donor: Giver,
    stripe_standin: StripeStandin,
    django_capture_on_commit_callbacks: Any,
) -> None:
    other = Giver(client, stripe_standin, django_capture_on_commit_callbacks, "other@example.org")
    other.give("2026-03-01 10:00Z", frequency="once", amount="50", currency="usd")
    other.seen = donor.seen = len(stripe_standin.events())
    donor.give("2026-03-02 10:00Z", frequency="once", amount="25", currency="usd")
    theirs = Donation.objects.get(amount=Decimal("50"))
    with donor.at("2026-03-03 10:00Z"):
        link = donor.link()
        assert client.get(f"{link}receipts/{theirs.pk}/").status_code == 404
        assert client.get(f"{link}receipts/{theirs.pk}/pdf/").status_code == 404


def _change(client: Client, link: str, gift: RecurringDonation, action: str, **form: str) -> str:
    """Step one (the choice), then step two (the confirmation); returns the final page."""
    url = f"{link}gifts/{gift.pk}/{action}/"
    first = client.post(url, form)
    assert first.status_code == 200, first.content.decode()
    assert not RecurringChange.objects.filter(recurring=gift, kind=action).exists()
    second = client.post(url, confirm_fields(first.content.decode()))
    assert second.status_code == 303
    return client.get(second["Location"]).content.decode()


def test_amount_change_reaches_stripe_with_proration_off_and_is_confirmed_by_email(
    client: Client, donor: Giver
) -> None:
    donor.give("2026-03-02 10:00Z", frequency="monthly", amount="5", currency="usd")
    gift = RecurringDonation.objects.get()
    with donor.at("2026-03-10 10:00Z"):
        link = donor.link()
        mail.outbox.clear()
        with donor.capture(execute=True):
            page = _change(client, link, gift, "change", amount="12,50", frequency="monthly")
        donor.deliver()  # Stripe's customer.subscription.updated arrives after the answer
        after_event = client.get(link).content.decode()

    [update] = [
        r
        for r in donor.standin.requests(f"/v1/subscriptions/{gift.stripe_subscription_id}")
        if r["method"] == "POST"
    ]
    assert update["status"] == 200
    assert update["params"]["proration_behavior"] == "none"
    price = update["params"]["items"][0]["price_data"]
    assert (price["unit_amount"], price["currency"], price["recurring"]["interval"]) == (
        "1250", "usd", "month",
    )  # fmt: skip
    assert update["idempotency_key"]
    assert "Your gift is changed" in page
    for shown in (page, after_event):
        assert gifts_on(shown)[0] == ("12.50", "USD", "monthly", "active")
    assert "5.00 USD monthly → 12.50 USD monthly" in after_event
    [notice] = mail.outbox
    assert notice.to == [EMAIL]
    assert "Now:    12.50 USD, monthly" in str(notice.body)
    # No new charge for a change of amount: the next renewal charges it.
    assert Donation.objects.count() == 1
    donor.standin.renew(gift.stripe_subscription_id)
    donor.deliver()
    assert Donation.objects.order_by("-pk").first().amount == Decimal("12.50")  # type: ignore[union-attr]


def test_switch_to_annual_charges_the_new_period_which_arrives_through_the_webhook(
    client: Client, donor: Giver
) -> None:
    donor.give("2026-03-02 10:00Z", frequency="monthly", amount="5", currency="usd")
    gift = RecurringDonation.objects.get()
    with donor.at("2026-03-10 10:00Z"):
        link = donor.link()
        confirm = client.post(
            f"{link}gifts/{gift.pk}/change/", {"amount": "60", "frequency": "annual"}
        ).content.decode()
        assert "60.00 USD is charged now" in confirm
        with donor.capture(execute=True):
            _change(client, link, gift, "change", amount="60", frequency="annual")
        before_events = gifts_on(client.get(link).content.decode())
        donor.deliver()
        page = client.get(link).content.decode()

    [update] = [
        r
        for r in donor.standin.requests(f"/v1/subscriptions/{gift.stripe_subscription_id}")
        if r["method"] == "POST"
    ]
    assert update["params"]["items"][0]["price_data"]["recurring"]["interval"] == "year"
    assert update["params"]["metadata"]["frequency"] == "annual"
    assert before_events == [("60.00", "USD", "annual", "active")]
    # The new period's payment exists only once Stripe's invoice.paid came through the webhook.
    payments = list(Donation.objects.filter(recurring=gift).order_by("pk"))
    assert [(p.amount, p.frequency, p.status) for p in payments] == [
        (Decimal("5.00"), "monthly", "paid"),
        (Decimal("60.00"), "annual", "paid"),
    ]
    assert "2 payments" in page
    assert re.search(r'class="next-charge" datetime="2027-03-10T10:00:00\+00:00"', page)


def test_a_change_made_in_stripes_portal_comes_back_through_the_webhook_to_the_page(
    client: Client, donor: Giver
) -> None:
    """No call of ours: Stripe's own subscription.updated is all the page learns from."""
    donor.give("2026-03-02 10:00Z", frequency="monthly", amount="5", currency="usd")
    gift = RecurringDonation.objects.get()
    sdk = calls._client()
    with donor.at("2026-03-08 10:00Z"):
        subscription = sdk.v1.subscriptions.retrieve(gift.stripe_subscription_id)
        item = subscription["items"]["data"][0]
        sdk.v1.subscriptions.update(
            gift.stripe_subscription_id,
            {
                "items": [{"id": item["id"], "price_data": {
                    "currency": "usd", "product": item["price"]["product"], "unit_amount": 800,
                    "recurring": {"interval": "month"},
                }}],
                "proration_behavior": "none",
            },
        )  # fmt: skip
        link = donor.link()
        stale = gifts_on(client.get(link).content.decode())
        donor.deliver()
        fresh = gifts_on(client.get(link).content.decode())
    assert stale == [("5.00", "USD", "monthly", "active")]
    assert fresh == [("8.00", "USD", "monthly", "active")]


def test_pause_resume_and_cancel_each_reach_stripe_show_on_the_page_and_mail_the_donor(
    client: Client, donor: Giver
) -> None:
    donor.give("2026-03-02 10:00Z", frequency="monthly", amount="5", currency="usd")
    gift = RecurringDonation.objects.get()
    with donor.at("2026-03-10 10:00Z"):
        link = donor.link()
        mail.outbox.clear()
        with donor.capture(execute=True):
            paused = _change(client, link, gift, "pause")
            donor.deliver()
            donor.standin.renew(gift.stripe_subscription_id)  # falls while paused: voided
            donor.deliver()
            resumed = _change(client, link, gift, "resume")
            cancelled = _change(client, link, gift, "cancel")
            donor.deliver()
        final = client.get(link).content.decode()

    assert gifts_on(paused)[0][3] == "paused"
    assert "Paused: nothing is charged" in paused
    assert gifts_on(resumed)[0][3] == "active"
    assert gifts_on(cancelled)[0][3] == "cancelled"
    assert gifts_on(final)[0][3] == "cancelled"
    assert "Cancel gift" not in final
    assert Donation.objects.count() == 1  # the paused renewal charged nothing
    updates = [
        r["params"]
        for r in donor.standin.requests(f"/v1/subscriptions/{gift.stripe_subscription_id}")
        if r["method"] in {"POST", "DELETE"}
    ]
    assert updates[0] == {"pause_collection": {"behavior": "void"}}
    assert updates[1] == {"pause_collection": ""}
    assert [m.subject.rsplit(": ", 1)[-1] for m in mail.outbox] == [
        "paused", "resumed", "cancelled",
    ]  # fmt: skip
    assert list(RecurringChange.objects.values_list("kind", flat=True)) == [
        "cancel", "resume", "pause",
    ]  # fmt: skip


def test_a_double_submitted_confirmation_is_one_change(client: Client, donor: Giver) -> None:
    donor.give("2026-03-02 10:00Z", frequency="monthly", amount="5", currency="usd")
    gift = RecurringDonation.objects.get()
    with donor.at("2026-03-10 10:00Z"):
        link = donor.link()
        url = f"{link}gifts/{gift.pk}/change/"
        fields = confirm_fields(
            client.post(url, {"amount": "7", "frequency": "monthly"}).content.decode()
        )
        assert client.post(url, fields).status_code == 303
        assert client.post(url, fields).status_code == 303
    assert RecurringChange.objects.count() == 1
    posts = [r for r in donor.standin.requests("/v1/subscriptions/") if r["method"] == "POST"]
    assert len(posts) == 1


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("1", "The smallest monthly gift is $2."),
        ("1e30", "without an exponent"),
        ("1,000", "could mean 1.00 or 1000"),
        ("5,50 €", "This gift is in USD"),
        ("NaN", "Enter an amount as a number"),
        ("99999", "The largest gift we take online"),
    ],
)
def test_a_bad_amount_is_a_clear_message_and_never_reaches_stripe(
    client: Client, donor: Giver, amount: str, message: str
) -> None:
    donor.give("2026-03-02 10:00Z", frequency="monthly", amount="5", currency="usd")
    gift = RecurringDonation.objects.get()
    with donor.at("2026-03-10 10:00Z"):
        link = donor.link()
        before = len(donor.standin.requests())
        response = client.post(
            f"{link}gifts/{gift.pk}/change/",
            {"amount": amount, "frequency": "monthly", "attempt": "0" * 32, "confirm": "on"},
        )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert len(donor.standin.requests()) == before


@given(
    amount=st.text(max_size=30),
    frequency=st.sampled_from(["monthly", "annual", "once", "", "weekly"]),
    action=st.sampled_from(["change", "pause", "resume", "cancel", "explode"]),
)
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@override_settings(DONATIONS_CHECKOUT_RATE="10000/m")
def test_any_form_input_gets_a_page_never_a_500(
    client: Client, amount: str, frequency: str, action: str
) -> None:
    """Step one of every action with input of any shape: a summary or a clear 4xx, and no
    Stripe call (none is configured here: a call would fail loudly)."""
    if not RecurringDonation.objects.filter(donor__email="any@example.org").exists():
        RecurringDonationFactory(donor__email="any@example.org")
    gift = RecurringDonation.objects.get(donor__email="any@example.org")
    assert gift.donor is not None
    url = f"/support/manage/{manage_link.make(gift.donor.pk)}/gifts/{gift.pk}/{action}/"
    response = client.post(url, {"amount": amount, "frequency": frequency, "attempt": amount})
    assert response.status_code in {200, 400, 404}
    assert not RecurringChange.objects.exists()
