"""The support banner for everyone (WCAG 2.2 AA), in a real browser on a desktop and a phone
screen: what is shown, to whom (screen readers), where focus goes, and without JavaScript.

These check behaviour through roles, names and computed styles, not markup, so they hold when
the banner's copy and amounts become staff-editable.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.accessibility import SCREENS, axe_violations, describe, screen_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Contrast of two computed CSS colours (WCAG relative luminance), in the page.
CONTRAST_JS = """
([a, b]) => {
  const lum = (css) => {
    const [r, g, b] = css.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}
"""


# True when nobody can see or click the element: off-screen or clipped away.
UNSEEN_JS = """
(e) => {
  e.scrollIntoView();
  const r = e.getBoundingClientRect();
  return document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2) !== e;
}
"""


def _contrast(page: Any, first: str, second: str) -> float:
    return float(page.evaluate(CONTRAST_JS, [first, second]))


def _style(locator: Any, prop: str) -> str:
    return str(locator.evaluate(f"e => getComputedStyle(e).{prop}"))


def _assert_stands_out(page: Any, control: Any, background: str, state: str) -> None:
    """WCAG 1.4.11 and 1.4.3: the control's edge (its fill or border) and its text."""
    assert control.is_visible(), state
    fill, border = _style(control, "backgroundColor"), _style(control, "borderTopColor")
    edge = max(_contrast(page, fill, background), _contrast(page, border, background))
    assert edge >= 3, (state, fill, border, background)
    assert _contrast(page, _style(control, "color"), fill) >= 4.5, state


def _assert_focus_ring(page: Any, control: Any, background: str, state: str) -> None:
    """WCAG 2.4.7 / 2.4.11: a focus indicator that contrasts with what surrounds it."""
    assert _style(control, "outlineStyle") != "none", state
    assert float(_style(control, "outlineWidth").removesuffix("px")) >= 2, state
    assert _contrast(page, _style(control, "outlineColor"), background) >= 3, state


@pytest.mark.parametrize("screen", SCREENS)
def test_remind_me_later_is_visible_in_every_state(
    page: Any, live_server: Any, screen: str
) -> None:
    page.set_viewport_size(SCREENS[screen])
    page.goto(live_server.url + "/support/")
    banner = page.locator(".support-banner")
    background = _style(banner, "backgroundColor")
    summary = banner.locator("summary")
    later = banner.get_by_text("Remind me later")
    assert later.is_visible()
    assert _contrast(page, _style(later, "color"), background) >= 4.5

    summary.focus()  # keyboard users open it with Enter
    _assert_focus_ring(page, summary, background, "summary focused")
    page.keyboard.press("Enter")
    remind = banner.get_by_role("button", name="Remind me", exact=True)
    email = banner.get_by_role("textbox", name="Email")
    assert email.is_visible()
    remind.scroll_into_view_if_needed()
    _assert_stands_out(page, remind, background, "at rest")
    remind.hover()
    _assert_stands_out(page, remind, background, "hovered")
    page.mouse.move(0, 0)
    email.focus()
    page.keyboard.press("Tab")  # the honeypot is skipped: focus goes straight to the button
    assert remind.evaluate("e => e === document.activeElement")
    _assert_stands_out(page, remind, background, "focused")
    _assert_focus_ring(page, remind, background, "focused")

    email.fill("later@example.org")
    remind.click()
    page.wait_for_url(live_server.url + "/support/remind-me/")
    assert page.get_by_role("heading", name="We will remind you").is_visible()
    page.goto(live_server.url + "/")
    assert page.get_by_role("link", name="Support now").is_visible()  # the banner, folded


def test_honeypot_fields_are_out_of_the_accessibility_tree_and_the_tab_order(
    page: Any, live_server: Any
) -> None:
    page.goto(live_server.url + "/")
    page.get_by_text("Remind me later").click()
    honeypots = page.locator("input[name=website]")
    assert honeypots.count() == 3  # checkout, remind me, newsletter sign-up
    assert page.get_by_role("textbox", name="Leave this field empty").count() == 0
    assert page.get_by_label("Leave this field empty").count() == 3  # still in the page
    for n in range(3):
        field = honeypots.nth(n)
        assert field.get_attribute("tabindex") == "-1"
        assert field.evaluate("e => !!e.closest('[aria-hidden=true]')")
        assert field.evaluate(UNSEEN_JS)
    assert "Leave this field empty" not in page.locator("body").aria_snapshot()
    page.locator("body").focus()
    for _ in range(60):  # every tab stop of the page
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.name") != "website"


@pytest.mark.parametrize("screen", SCREENS)
@pytest.mark.parametrize("javascript", [True, False], ids=["js", "no-js"])
def test_an_amount_error_is_announced_focused_and_keeps_the_readers_amount(
    chromium_browser: Any, live_server: Any, screen: str, javascript: bool
) -> None:
    from playwright.sync_api import expect

    with screen_page(chromium_browser, screen, javascript=javascript) as page:
        page.goto(live_server.url + "/support/")
        banner = page.locator(".support-banner")
        banner.get_by_text("Monthly", exact=True).click()
        banner.get_by_role("textbox", name="Other amount").fill("1.50")
        banner.get_by_role("button", name="Continue").click()

        alert = page.get_by_role("alert")
        expect(alert).to_contain_text("The smallest monthly gift is $2.")
        amount = page.get_by_role("textbox", name="Other amount")
        expect(amount).to_be_focused()
        expect(amount).to_have_value("1.50")
        expect(amount).to_have_attribute("aria-invalid", "true")
        expect(amount).to_have_accessible_description(re.compile("smallest monthly gift"))
        assert page.locator(".support-banner input[name=amount]:checked").count() == 0
        assert page.get_by_role("radio", name="Monthly").is_checked()
        found = axe_violations(page) if javascript else []
        assert found == [], describe(found)


@pytest.mark.parametrize("screen", SCREENS)
def test_without_javascript_the_presets_follow_frequency_and_currency(
    chromium_browser: Any, live_server: Any, screen: str
) -> None:
    with screen_page(chromium_browser, screen, javascript=False) as page:
        page.goto(live_server.url + "/")
        banner = page.locator(".support-banner")
        assert banner.get_by_role("radio", name="$5").is_checked()
        banner.get_by_text("Annual", exact=True).click()
        banner.get_by_role("combobox", name="Currency").select_option("eur")
        banner.get_by_role("button", name="Update amounts").click()

        page.wait_for_url(live_server.url + "/support/")
        banner = page.locator(".support-banner")
        assert banner.get_by_role("radio", name="Annual").is_checked()
        assert banner.get_by_role("combobox", name="Currency").input_value() == "eur"
        presets = banner.locator("input[name=amount]")
        assert [presets.nth(n).get_attribute("value") for n in range(presets.count())] == [
            "50", "100", "250",
        ]  # fmt: skip
        assert banner.get_by_role("radio", name="€100").is_checked()
        assert page.get_by_role("alert").count() == 0  # a choice, not an error


def test_with_javascript_the_update_button_is_not_shown(page: Any, live_server: Any) -> None:
    page.goto(live_server.url + "/")
    assert page.get_by_role("button", name="Update amounts").count() == 0
