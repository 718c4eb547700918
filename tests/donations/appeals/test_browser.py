"""A reader in a real browser (Debian's chromium through Playwright): the variant's copy on the
demo article, the currency switch remembered, and after a monthly gift's thank-you page no
banner any more."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from donations.standin import StripeStandin
from tests.donations.appeals.experiments import running_experiment
from tests.donations.test_browser import csp_allowing

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_variant_copy_on_the_article_then_thank_you_hides_the_banner(
    page: Any, live_server: Any, stripe_standin_webhooks: StripeStandin
) -> None:
    standin = stripe_standin_webhooks
    _, (a, b) = running_experiment(
        {"name": "A", "weight": 1, "heading": "Variant A speaks"},
        {"name": "B", "weight": 1, "heading": "Variant B speaks",
         "letter": "B's <strong>own</strong> letter."},
    )  # fmt: skip
    with override_settings(SITE_URL=live_server.url, **csp_allowing(standin.url)):
        page.goto(live_server.url + "/")
        [cookie] = [c for c in page.context.cookies() if c["name"] == "support_variant"]
        mine = {str(a.pk): "A", str(b.pk): "B"}[cookie["value"]]
        banner = page.locator(".support-banner")
        assert banner.get_by_role("heading", name=f"Variant {mine} speaks").is_visible()
        page.reload()
        assert banner.get_by_role("heading", name=f"Variant {mine} speaks").is_visible()

        banner.locator("select[name=currency]").select_option("gbp")
        assert banner.locator(".support-headline").inner_text() == (
            "Support us monthly starting from just £2"
        )
        page.reload()
        assert banner.locator("select[name=currency]").input_value() == "gbp"

        banner.get_by_label("Monthly").check()
        banner.get_by_label("£5").check()
        banner.get_by_role("button", name="Continue").click()
        page.wait_for_url(standin.url + "/pay/cs_*")
        page.get_by_label("Email").fill("reader@example.org")
        page.get_by_role("button", name="Pay", exact=True).click()
        page.wait_for_url(live_server.url + "/support/thank-you/?session_id=cs_*")
        standin.wait_for_webhooks()

        page.goto(live_server.url + "/")
        assert page.locator("h1").first.is_visible()  # the article is there
        assert page.locator(".support-banner").count() == 0
