"""The live appeal on the demo article: staff's words, the derived headline, the sanitiser,
edits showing on the next page view, who sees the banner."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from donations.appeals.letter import clean_letter
from donations.appeals.models import AmountLimit, Appeal

pytestmark = pytest.mark.django_db


def test_fresh_install_has_one_live_appeal_written_for_the_demo_newsroom(client: Client) -> None:
    appeal = Appeal.objects.get()
    assert appeal.is_live
    page = client.get("/").content.decode()
    assert "A message from The Independent Ledger" in page
    assert "Independent reporting is slow, costly and sometimes dangerous." in page
    assert "The editors of The Independent Ledger" in page
    assert "Support us monthly starting from just $2" in page
    assert appeal.limits.count() == 9  # three currencies x three frequencies
    assert appeal.options.count() == 27  # the presets staff had, moved to the appeal


@pytest.mark.parametrize(
    ("language", "minimum", "shown"),
    [("en-US", "3", "$3"), ("de-DE", "2.50", "€2.50"), ("en-GB", "4", "£4")],
)
def test_headline_amount_follows_the_configured_monthly_minimum_per_currency(
    client: Client, language: str, minimum: str, shown: str
) -> None:
    currency = {"en-US": "usd", "de-DE": "eur", "en-GB": "gbp"}[language]
    AmountLimit.objects.filter(currency=currency, frequency="monthly").update(
        minimum=Decimal(minimum)
    )
    page = client.get("/", headers={"Accept-Language": language}).content.decode()
    assert f"Support us monthly starting from just {shown}</p>" in page
    # the form enforces the same minimum
    below = Decimal(minimum) - Decimal("0.5")
    response = client.post(
        "/support/checkout/",
        {"frequency": "monthly", "currency": currency, "custom_amount": str(below)},
    )
    assert response.status_code == 400
    assert f"The smallest monthly gift is {shown}." in response.content.decode()


def test_sanitiser_strips_scripts_event_handlers_and_unsafe_links() -> None:
    dirty = (
        'Dear readers,\n\n<strong onclick="steal()">Bold</strong> and '
        '<a href="javascript:alert(1)" onmouseover="x()">bad</a> '
        '<a href="https://example.org/why">good</a><script>alert("x")</script>'
        '<img src="x" onerror="alert(1)"><iframe src="https://evil.example"></iframe>'
        '<p style="color:red">styled</p>'
    )
    clean = clean_letter(dirty)
    for bad in ("script", "onclick", "onmouseover", "onerror", "javascript:", "<img", "iframe",
                "style=", 'alert("x")'):  # fmt: skip
        assert bad not in clean
    assert "<strong>Bold</strong>" in clean
    assert '<a href="https://example.org/why" rel="noopener noreferrer">good</a>' in clean
    assert clean.startswith("<p>Dear readers,</p>")


def staff_post_appeal(staff: Client, appeal: Appeal, **changes: str) -> Any:
    """The admin's change form, posted as staff would (inline management forms included)."""
    data = {
        "name": appeal.name, "show_banner": "on", "heading": appeal.heading,
        "letter": appeal.letter, "sign_off": appeal.sign_off, "headline": appeal.headline,
        "default_frequency": appeal.default_frequency,
    }  # fmt: skip
    for prefix, rows, fields in (
        ("options", list(appeal.options.all()), ("frequency", "currency", "amount", "position")),
        ("limits", list(appeal.limits.all()), ("currency", "frequency", "minimum", "maximum")),
    ):
        data |= {f"{prefix}-TOTAL_FORMS": str(len(rows)), f"{prefix}-INITIAL_FORMS": str(len(rows)),
                 f"{prefix}-MIN_NUM_FORMS": "0", f"{prefix}-MAX_NUM_FORMS": "1000"}  # fmt: skip
        for n, row in enumerate(rows):
            data[f"{prefix}-{n}-id"] = str(row.pk)
            data[f"{prefix}-{n}-appeal"] = str(appeal.pk)
            data |= {f"{prefix}-{n}-{field}": str(getattr(row, field)) for field in fields}
            if getattr(row, "is_default", False):
                data[f"{prefix}-{n}-is_default"] = "on"
    data |= changes
    if changes.get("show_banner") == "":
        data.pop("show_banner")
    return staff.post(f"/admin/appeals/appeal/{appeal.pk}/change/", data)


def test_staff_edit_in_the_admin_shows_on_the_next_page_view(
    client: Client, staff: Client, django_capture_on_commit_callbacks: Any
) -> None:
    appeal = Appeal.objects.get(is_live=True)
    assert "A message from The Independent Ledger" in client.get("/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_post_appeal(
            staff, appeal, heading="Why we ask",
            letter='Plain words.\n\n<a href="https://example.org" onclick="x()">Read more</a>',
            headline="Give from {minimum} a month",
        )  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get("/").content.decode()
    assert "Why we ask" in page
    assert "Give from $2 a month" in page
    assert '<p>Plain words.</p><p><a href="https://example.org" rel="noopener noreferrer">' in page
    assert "onclick" not in page


def test_headline_without_the_placeholder_is_refused(staff: Client) -> None:
    appeal = Appeal.objects.get(is_live=True)
    response = staff_post_appeal(staff, appeal, headline="Support us from just $2")
    assert response.status_code == 200
    assert "Write {minimum} once where the amount goes" in response.content.decode()
    assert Appeal.objects.get(pk=appeal.pk).headline.endswith("{minimum}")


def test_staff_switch_the_banner_off_site_wide(
    client: Client, staff: Client, django_capture_on_commit_callbacks: Any
) -> None:
    appeal = Appeal.objects.get(is_live=True)
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_post_appeal(staff, appeal, show_banner="").status_code == 302
    assert "support-banner" not in client.get("/").content.decode()
    assert "support-form" in client.get("/support/").content.decode()  # the page still works


def test_reminded_browser_sees_the_short_line_and_a_giver_sees_nothing(client: Client) -> None:
    client.cookies["support_reminder"] = "1"
    page = client.get("/").content.decode()
    assert "support-reminded" in page
    assert "support-form" not in page
    other = Client()
    other.cookies["support_given"] = "1"
    page = other.get("/").content.decode()
    assert "support-banner" not in page


def test_thank_you_for_a_recurring_gift_hides_the_banner_in_that_browser(
    client: Client, stripe_standin: Any, django_capture_on_commit_callbacks: Any
) -> None:
    from tests.donations.flow import checkout, deliver_all

    once = checkout(client, frequency="once", amount="25")
    stripe_standin.pay(once, email="one@example.org")
    deliver_all(client, stripe_standin, django_capture_on_commit_callbacks)
    client.get(f"/support/thank-you/?session_id={once}")
    assert "support-form" in client.get("/").content.decode()  # a one-off gift: still asked

    seen = len(stripe_standin.event_payloads())
    monthly = checkout(client, frequency="monthly", amount="5")
    stripe_standin.pay(monthly, email="two@example.org")
    deliver_all(client, stripe_standin, django_capture_on_commit_callbacks, skip=seen)
    response = client.get(f"/support/thank-you/?session_id={monthly}")
    assert response.cookies["support_given"]["max-age"] == 365 * 86400
    assert "support-banner" not in client.get("/").content.decode()
    assert "support-form" in client.get("/support/").content.decode()


def test_the_privacy_page_names_every_cookie_and_what_it_holds(client: Client) -> None:
    page = client.get("/privacy/").content.decode()
    for cookie in ("support_variant", "support_currency", "support_given", "support_reminder"):
        assert f"<strong>{cookie}</strong>" in page
    assert "which version of our appeal" in page


@pytest.mark.parametrize(
    "typed", ["1e30", "1e309", "NaN", "Infinity", "-5", "9" * 25, "5e-3", "0.001", "5,50", "1,000"]
)
def test_staff_typing_an_amount_the_columns_cannot_hold_get_form_errors_and_nothing_changes(
    staff: Client, typed: str
) -> None:
    """The appeal's amounts are Django decimal fields (not free text): an exponent, NaN, a
    comma or too many digits is an error on each admin field it is typed in, never a 500
    or a multiplied amount."""
    appeal = Appeal.objects.get(is_live=True)
    before = sorted(appeal.options.values_list("amount", flat=True))
    limits = sorted(appeal.limits.values_list("minimum", "maximum"))
    fields = ("options-0-amount", "limits-0-minimum", "limits-1-maximum")

    response = staff_post_appeal(staff, appeal, **dict.fromkeys(fields, typed))

    assert response.status_code == 200
    assert response.content.decode().count('<ul class="errorlist') >= len(fields)
    assert sorted(appeal.options.values_list("amount", flat=True)) == before
    assert sorted(appeal.limits.values_list("minimum", "maximum")) == limits
