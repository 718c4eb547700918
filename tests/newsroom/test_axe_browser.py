"""axe-core finds no serious or critical WCAG 2.2 AA violation on the pages readers see, on a
desktop screen and a phone screen."""

from __future__ import annotations

from typing import Any

import pytest

from donations.links import manage_url
from tests.accessibility import SCREENS, axe_violations, describe
from tests.donations.factories import make_donor
from tests.newsletter.factories import IssueFactory, IssueItemFactory

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("empty_cache"),
]


def _pages(live_url: str) -> dict[str, str]:
    issue = IssueFactory.create(sent=True, subject="This week at the Ledger")
    for n in range(3):
        IssueItemFactory.create(issue=issue, title=f"Story {n}")
    manage = manage_url(donor_id=make_donor().pk).removeprefix("http://testserver")
    return {
        "article": "/",
        "support": "/support/",
        "thank-you": "/support/thank-you/",
        "newsletter sign-up": "/newsletter/",
        "newsletter preview": "/newsletter/preview/",
        "newsletter issue": f"/newsletter/issues/{issue.web_slug}/",
        "manage": "/support/manage/",
        "manage link": manage,
    }


@pytest.mark.parametrize("screen", SCREENS)
def test_reader_pages_have_no_serious_accessibility_violation(
    page: Any, live_server: Any, screen: str
) -> None:
    page.set_viewport_size(SCREENS[screen])
    found = {}
    for name, path in _pages(live_server.url).items():
        page.goto(live_server.url + path)
        found[name] = axe_violations(page)
    # States that only show after a click: the remind-me form, a manage link request's answer.
    page.goto(live_server.url + "/")
    page.get_by_text("Remind me later").click()
    found["article, remind me open"] = axe_violations(page)
    page.goto(live_server.url + "/support/manage/")
    page.get_by_role("textbox", name="Email").fill("someone@example.org")
    page.get_by_role("button", name="Email me a link").click()
    page.get_by_role("heading", name="Check your inbox").wait_for()
    found["manage, link sent"] = axe_violations(page)
    failures = {name: describe(v) for name, v in found.items() if v}
    assert failures == {}, "\n".join(f"{k}: {v}" for k, v in failures.items())
