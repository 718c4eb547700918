"""Browser-test helpers for accessibility: the two screen sizes every check runs at, and an
automated WCAG check with axe-core (shipped inside axe-playwright-python, run in the page)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

SCREENS = {
    "desktop": {"width": 1280, "height": 800},
    "phone": {"width": 390, "height": 844},
}
# axe-core's rule tags for WCAG 2.0, 2.1 and 2.2, levels A and AA.
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22a", "wcag22aa", "best-practice"]
BLOCKING = {"serious", "critical"}


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Serious and critical WCAG 2.2 AA violations axe-core finds on the page as it is now."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_AA}})
    return [v for v in results.response["violations"] if v["impact"] in BLOCKING]


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} -> "
        + "; ".join(node["html"][:160] for node in v["nodes"][:3])
        for v in violations
    )


@contextlib.contextmanager
def screen_page(browser: Any, screen: str, *, javascript: bool = True) -> Iterator[Any]:
    """A fresh page of the given screen size, with or without JavaScript."""
    context = browser.new_context(viewport=SCREENS[screen], java_script_enabled=javascript)
    try:
        yield context.new_page()
    finally:
        context.close()
