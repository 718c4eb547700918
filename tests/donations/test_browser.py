"""A reader in a real browser (Debian's chromium through Playwright): banner -> checkout."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from donations.models import Donation, Reminder
from donations.standin import StripeStandin


def csp_allowing(origin: str) -> dict[str, Any]:
    """The policy settings build at start-up when STRIPE_API_BASE is set (as the run command
    does); the stand-in fixture sets it only after start-up."""
    policy = copy.deepcopy(settings.CONTENT_SECURITY_POLICY)
    policy["DIRECTIVES"]["form-action"].append(origin)
    return {"CONTENT_SECURITY_POLICY": policy}


pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_monthly_5_continue_on_the_article_lands_on_checkout_then_thank_you(
    page: Any, live_server: Any, stripe_standin_webhooks: StripeStandin
) -> None:
    standin = stripe_standin_webhooks
    with override_settings(SITE_URL=live_server.url, **csp_allowing(standin.url)):
        page.goto(live_server.url + "/")
        banner = page.locator(".support-banner")
        banner.get_by_label("Monthly").check()
        banner.get_by_label("$5").check()
        banner.get_by_role("button", name="Continue").click()
        page.wait_for_url(standin.url + "/pay/cs_*")

        [request] = [r for r in standin.requests("/v1/checkout/sessions") if r["method"] == "POST"]
        assert request["params"]["mode"] == "subscription"
        assert request["params"]["line_items"][0]["price_data"]["unit_amount"] == "500"

        page.get_by_label("Email").fill("reader@example.org")
        page.get_by_role("button", name="Pay", exact=True).click()
        page.wait_for_url(live_server.url + "/support/thank-you/?session_id=cs_*")
        standin.wait_for_webhooks()
        page.reload()

        assert "5.00 USD" in page.locator(".gift-summary").inner_text()
        assert Donation.objects.get().status == Donation.Status.PAID


def test_presets_follow_frequency_and_currency_with_the_same_origin_script(
    page: Any, live_server: Any
) -> None:
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    page.goto(live_server.url + "/")
    banner = page.locator(".support-banner")
    banner.get_by_label("Annual").check()
    assert banner.get_by_label("$100").is_checked()
    banner.locator("select[name=currency]").select_option("eur")
    assert banner.get_by_label("€250").is_visible()
    assert errors == []  # no CSP violation, no script error


def test_remind_me_later_opens_a_small_form_and_then_hides_the_banner(
    page: Any, live_server: Any
) -> None:
    page.goto(live_server.url + "/")
    page.get_by_text("Remind me later").click()
    page.locator(".remind-me").get_by_label("Email").fill("later@example.org")
    page.locator(".remind-me").get_by_role("button", name="Remind me").click()
    page.wait_for_url(live_server.url + "/support/remind-me/")
    assert "We will remind you" in page.content()
    page.goto(live_server.url + "/")
    assert page.locator(".support-reminded").is_visible()
    assert page.locator(".support-form").count() == 0
    assert Reminder.objects.get().email == "later@example.org"
