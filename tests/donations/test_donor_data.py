"""A donor's data from their page: the download holds every stored field of the address and
nothing of anyone else; deleting leaves the address in no table, keeps the figures, and an
erased address comes back only by its owner's own act."""

from __future__ import annotations

import io
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from donations.figures import revenue_since
from donations.models import Donation, Donor, FailedPayment, RecurringDonation, Reminder
from donations.services.donor_data import row_fields
from donations.standin import StripeStandin
from newsletter.models import Delivery, Issue, Subscriber
from newsletter.services.subscriber_data import subscribers_import_csv
from newsletter.tokens import confirm_url
from newsroom.models import ErasedAddress
from tests.donations.donor_flow import Donor as Giver
from tests.donations.donor_flow import confirm_fields
from tests.donations.stripe_events import post_event
from tests.newsletter.factories import IssueFactory, SubscriberFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("empty_cache")]

EMAIL = "private.giver@example.org"
OTHER = "someone.else@example.org"


@pytest.fixture
def givers(
    client: Client, stripe_standin: StripeStandin, django_capture_on_commit_callbacks: Any
) -> tuple[Giver, Giver]:
    me = Giver(client, stripe_standin, django_capture_on_commit_callbacks, EMAIL)
    other = Giver(client, stripe_standin, django_capture_on_commit_callbacks, OTHER)
    other.give("2026-03-01 09:00Z", frequency="monthly", amount="9", currency="eur")
    me.seen = other.seen
    me.give("2026-03-02 10:00Z", frequency="once", amount="25", currency="usd")
    me.give("2026-03-03 10:00Z", frequency="monthly", amount="5", currency="usd")
    with me.at("2026-04-02 10:00Z"):
        stripe_standin.fail_invoice(
            RecurringDonation.objects.get(donor__email=EMAIL).stripe_subscription_id
        )
        me.deliver()
    other.seen = me.seen
    with me.at("2026-04-03 10:00Z"), me.capture(execute=True):
        client.post("/support/remind-me/", {"email": EMAIL})
        client.post("/support/remind-me/", {"email": OTHER})
    subscriber = SubscriberFactory(email=EMAIL, source="/2026/03/story/")
    issue = IssueFactory(sent=True)
    assert isinstance(subscriber, Subscriber)
    assert isinstance(issue, Issue)
    Delivery.objects.create(issue=issue, subscriber=subscriber, status="sent")
    SubscriberFactory(email=OTHER)
    return me, other


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _flatten(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in _flatten(item)]
    return [value]


def test_download_holds_every_stored_field_of_the_address_and_nothing_of_another(
    client: Client, givers: tuple[Giver, Giver]
) -> None:
    me, _ = givers
    with me.at("2026-04-04 10:00Z"):
        link = me.link()
        response = client.get(f"{link}data/")
    assert response["Content-Disposition"] == 'attachment; filename="my-data.json"'
    assert "no-store" in response["Cache-Control"]
    data = json.loads(response.content)
    donations = data["donations"]

    donor = Donor.objects.get(email=EMAIL)
    assert donations["donor"] == row_fields(donor)
    mine = {
        "payments": Donation.objects.filter(donor=donor),
        "recurring_gifts": RecurringDonation.objects.filter(donor=donor),
        "failed_renewals": FailedPayment.objects.filter(recurring__donor=donor),
        "reminders": Reminder.objects.filter(email=EMAIL),
    }
    for key, rows in mine.items():
        assert rows.exists(), key
        assert donations[key] == [row_fields(row) for row in rows.order_by("created_at", "pk")]
    assert {e["type"] for e in donations["stripe_events"]} >= {
        "checkout.session.completed", "invoice.paid", "invoice.payment_failed",
    }  # fmt: skip
    subscriber = Subscriber.objects.get(email=EMAIL)
    newsletter = data["newsletter"]["subscriber"]
    for field in Subscriber._meta.concrete_fields:
        value = getattr(subscriber, field.attname)
        assert newsletter[field.attname] == (
            value.isoformat() if isinstance(value, datetime) else value
        )
    assert data["newsletter"]["deliveries"][0]["status"] == "sent"

    text = response.content.decode()
    other = Donor.objects.get(email=OTHER)
    theirs = [OTHER, other.stripe_customer_id]
    for name in ("stripe_checkout_session_id", "stripe_invoice_id", "stripe_payment_intent_id"):
        theirs += Donation.objects.filter(donor=other).values_list(name, flat=True)
    theirs += RecurringDonation.objects.filter(donor=other).values_list(
        "stripe_subscription_id", flat=True
    )
    for value in theirs:
        assert value
        assert value not in text
    assert EMAIL in _flatten(data)


def _text_columns() -> list[tuple[str, str]]:
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            for column in connection.introspection.get_table_description(cursor, table):
                kind = connection.introspection.get_field_type(column.type_code, column)
                if kind in {"CharField", "TextField", "JSONField", "EmailField"}:
                    found.append((table, column.name))
    return found


def _rows_naming(address: str) -> list[str]:
    """Every (table, column) with a value that contains the address, in any case."""
    hits = []
    with connection.cursor() as cursor:
        for table, column in _text_columns():
            cursor.execute(
                f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)} "  # noqa: S608
                f"WHERE LOWER(CAST({connection.ops.quote_name(column)} AS TEXT)) LIKE %s",
                [f"%{address.lower()}%"],
            )
            if cursor.fetchone()[0]:
                hits.append(f"{table}.{column}")
    return hits


def _figures() -> tuple[list[Any], list[Any]]:
    start = datetime(2026, 1, 1, tzinfo=timezone.get_fixed_timezone(0))
    payments = list(
        Donation.objects.order_by("pk").values_list(
            "amount", "currency", "paid_at", "status", "frequency", "amount_refunded",
            "stripe_checkout_session_id", "stripe_invoice_id", "stripe_payment_intent_id",
        )
    )  # fmt: skip
    return revenue_since(start), payments


def test_delete_cancels_first_then_leaves_the_address_in_no_table_and_the_figures_unchanged(
    client: Client, givers: tuple[Giver, Giver]
) -> None:
    me, other = givers
    assert _rows_naming(EMAIL)  # the search does find it while it is there
    figures_before = _figures()
    gift = RecurringDonation.objects.get(donor__email=EMAIL)
    customers = {gift.stripe_customer_id, Donor.objects.get(email=EMAIL).stripe_customer_id}
    with me.at("2026-04-04 10:00Z"):
        link = me.link()
        first = client.post(f"{link}data/delete/")
        assert "These recurring gifts will be cancelled first" in first.content.decode()
        assert Donor.objects.filter(email=EMAIL).exists()  # nothing yet: a confirmation first
        done = client.post(f"{link}data/delete/", confirm_fields(first.content.decode()))
        me.deliver()  # Stripe's own events of the cancellation and the deletion

    assert "Your data is deleted" in done.content.decode()
    deletes = {r["path"] for r in me.standin.requests() if r["method"] == "DELETE"}
    assert f"/v1/subscriptions/{gift.stripe_subscription_id}" in deletes
    assert {f"/v1/customers/{customer}" for customer in customers} <= deletes
    assert _rows_naming(EMAIL) == []
    assert _rows_naming("private.giver") == []
    assert RecurringDonation.objects.get(pk=gift.pk).status == RecurringDonation.Status.CANCELLED
    assert gift.donor_id is not None
    erased = Donor.objects.get(pk=gift.donor_id)
    assert (erased.email, erased.name, erased.erased_at is not None) == (None, "", True)
    assert _figures() == figures_before
    assert Donor.objects.filter(email=OTHER).exists()
    assert Subscriber.objects.filter(email=OTHER).exists()
    assert client.get(link).status_code == 400  # the link opens nothing any more

    # A late event about the erased customer that carries the address re-creates nobody.
    late = me.standin.events("invoice.paid")[-1]
    late["id"] = "evt_late_after_erasure"
    late["data"]["object"]["customer_email"] = EMAIL
    assert post_event(client, late).status_code == 200
    assert _rows_naming(EMAIL) == []
    assert other.seen <= me.seen


def test_an_erased_address_is_kept_out_of_imports_but_welcome_when_its_owner_signs_up(
    client: Client, givers: tuple[Giver, Giver], django_capture_on_commit_callbacks: Any
) -> None:
    me, _ = givers
    with me.at("2026-04-04 10:00Z"):
        link = me.link()
        first = client.post(f"{link}data/delete/")
        client.post(f"{link}data/delete/", confirm_fields(first.content.decode()))
    assert ErasedAddress.objects.count() == 1
    assert EMAIL not in str(list(ErasedAddress.objects.values_list("digest", flat=True)))

    result = subscribers_import_csv(
        file=io.BytesIO(f"email\n{EMAIL.upper()}\nnew.reader@example.org\n".encode()),
        consent_source="fair stand",
    )
    assert (result.created, result.erased) == (1, 1)
    assert not Subscriber.objects.filter(email=EMAIL).exists()

    with django_capture_on_commit_callbacks(execute=True):
        client.post("/newsletter/", {"email": EMAIL, "consent": "on", "source": "/back/"})
    subscriber = Subscriber.objects.get(email=EMAIL)
    confirm = confirm_url(subscriber.pk).removeprefix("http://testserver")
    client.post(confirm)
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE
    assert (subscriber.consent_source, subscriber.consent_policy_version) == ("/back/", "2026-11")
    assert not ErasedAddress.objects.exists()


def test_a_stripe_outage_during_delete_changes_nothing(
    client: Client, givers: tuple[Giver, Giver]
) -> None:
    me, _ = givers
    with me.at("2026-04-04 10:00Z"):
        link = me.link()
        first = client.post(f"{link}data/delete/")
        me.standin.fail_next(500, times=5)
        response = client.post(f"{link}data/delete/", confirm_fields(first.content.decode()))
    assert response.status_code == 503
    assert Donor.objects.filter(email=EMAIL).exists()
    assert Subscriber.objects.filter(email=EMAIL).exists()
    assert not ErasedAddress.objects.exists()
    assert Donation.objects.filter(donor__email=EMAIL).exclude(amount=Decimal("0")).exists()
