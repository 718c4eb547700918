from __future__ import annotations

import pytest

from newsletter.demo import load_demo_data
from newsletter.models import Issue, Subscriber

pytestmark = pytest.mark.django_db


def test_the_demo_has_subscribers_and_a_sample_draft_issue_and_loads_idempotently() -> None:
    load_demo_data()
    load_demo_data()

    assert Subscriber.objects.filter(status="active", email__endswith="@example.org").count() == 25
    [issue] = Issue.objects.all()
    assert issue.is_sample
    assert issue.status == Issue.Status.DRAFT
    assert issue.intro
    sections = set(issue.items.values_list("section", flat=True))
    assert issue.items.count() == 6
    assert sections == {"news", "features", "analysis", "opinion"}
