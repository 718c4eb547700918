from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from donations.models import AmountPreset

pytestmark = pytest.mark.django_db


def test_banner_on_the_article_keeps_the_seed_strings_and_posts_to_checkout(
    client: Client,
) -> None:
    page = client.get("/").content.decode()
    for text in (
        "Support us monthly starting from just $2", "Once", "Monthly", "Annual", "Continue",
        "Not ready to support today?", "Remind me later", 'action="/support/remind-me/"',
        'action="/support/checkout/"', "Apple Pay",
    ):  # fmt: skip
        assert text in page
    assert 'value="monthly" checked' in page
    assert 'value="5" checked' in page


def test_presets_come_from_the_staff_edited_table(client: Client) -> None:
    AmountPreset.objects.all().delete()
    for position, amount in enumerate(("3", "7", "15")):
        AmountPreset.objects.create(
            frequency="monthly", currency="usd", amount=Decimal(amount), position=position,
            is_default=amount == "7",
        )  # fmt: skip
    page = client.get("/support/").content.decode()
    assert 'name="amount" value="15"' in page
    assert 'name="amount" value="7" checked' in page
    assert 'name="amount" value="10"' not in page


def test_failed_form_rerenders_with_the_readers_choice(client: Client) -> None:
    response = client.post(
        "/support/checkout/", {"frequency": "annual", "currency": "gbp", "amount": "5"}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert "The smallest annual gift is £10." in page
    assert 'value="annual" checked' in page
    assert '<option value="gbp" selected>' in page
    assert 'name="amount" value="100"' in page  # annual presets now


def test_support_pages_load_only_same_origin_scripts(client: Client) -> None:
    page = client.get("/support/").content.decode()
    assert '<script src="/static/donations/support.js" defer></script>' in page
    assert "https://" not in page.split("<main", 1)[1].split("</main>", 1)[0]


def test_update_amounts_renders_the_presets_for_the_new_choice_without_starting_a_checkout(
    client: Client,
) -> None:
    """The banner's button for readers without JavaScript: a choice, not a payment."""
    response = client.post(
        "/support/", {"frequency": "annual", "currency": "eur", "amount": "5", "attempt": "a1"}
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="annual" checked' in page
    assert '<option value="eur" selected>' in page
    assert 'name="amount" value="100" checked' in page  # the new set's default
    assert 'role="alert"' not in page
    assert 'formaction="/support/"' in page


def test_a_typed_amount_with_an_error_highlights_no_preset(client: Client) -> None:
    response = client.post(
        "/support/checkout/",
        {"frequency": "monthly", "currency": "usd", "amount": "5", "custom_amount": "1.5"},
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert 'value="1.5"' in page
    assert " checked" not in page.split('name="amount"', 1)[1].split("custom_amount")[0]
    assert 'aria-invalid="true" aria-describedby="support-errors"' in page
    assert 'id="support-errors" role="alert"' in page
