"""A donor walks their page on a phone in a real browser (Debian's chromium through Playwright):
sees both gifts, opens and downloads a receipt, changes an amount, downloads and deletes their
data. Stripe is the stand-in, its webhooks POSTed to the live server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client, override_settings

from donations.links import manage_url
from donations.models import Donor, RecurringDonation
from donations.standin import StripeStandin
from tests.accessibility import axe_violations, describe, screen_page
from tests.donations.flow import checkout

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("empty_cache"),
]

EMAIL = "phone.reader@example.org"


def _give(standin: StripeStandin, **form: str) -> None:
    session_id = checkout(Client(), **form)
    standin.pay(session_id, email=EMAIL)
    standin.wait_for_webhooks()


def test_a_donor_walks_their_page_on_a_phone(
    chromium_browser: Any, live_server: Any, stripe_standin_webhooks: StripeStandin, tmp_path: Path
) -> None:
    standin = stripe_standin_webhooks
    _give(standin, frequency="once", amount="25", currency="usd")
    _give(standin, frequency="monthly", amount="5", currency="eur")
    donor = Donor.objects.get(email=EMAIL)
    link = manage_url(donor_id=donor.pk).replace("http://testserver", live_server.url)

    with (
        override_settings(SITE_URL=live_server.url),
        screen_page(chromium_browser, "phone") as page,
    ):
        page.goto(link)
        gifts = page.locator("li.gift")
        assert gifts.count() == 2
        assert "5.00 EUR" in gifts.nth(0).inner_text()
        assert "25.00 USD" in gifts.nth(1).inner_text()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scroll
        violations = axe_violations(page)
        assert violations == [], describe(violations)

        gifts.nth(1).get_by_role("link", name="Receipt").click()
        assert "25.00 USD" in page.locator("table.facts").inner_text()
        page.go_back()
        with page.expect_download() as receipt:
            gifts.nth(1).get_by_role("link", name="PDF").click()
        assert receipt.value.suggested_filename.startswith("receipt-")
        assert Path(receipt.value.path()).read_bytes().startswith(b"%PDF")

        monthly = page.locator("li.gift").nth(0)
        monthly.get_by_label("Amount (EUR)").fill("8")
        monthly.get_by_role("button", name="Change").click()
        assert "to 8.00 EUR monthly" in page.locator(".summary").inner_text()
        page.get_by_role("button", name="Confirm").click()
        assert "Your gift is changed" in page.locator(".done").inner_text()
        assert "8.00 EUR" in page.locator("li.gift").nth(0).inner_text()
        assert RecurringDonation.objects.get().amount == 8

        with page.expect_download() as data:
            page.get_by_role("link", name="Download my data").click()
        exported = json.loads(Path(data.value.path()).read_text())
        assert exported["address"] == EMAIL
        assert len(exported["donations"]["payments"]) == 2

        page.get_by_role("button", name="Delete my data").click()
        assert "8.00 EUR monthly" in page.locator("main").inner_text()  # cancelled first
        page.get_by_role("button", name="Yes, delete my data").click()
        assert "Your data is deleted" in page.locator("h1").inner_text()

    standin.wait_for_webhooks()
    assert not Donor.objects.filter(email=EMAIL).exists()
    assert RecurringDonation.objects.get().status == RecurringDonation.Status.CANCELLED
