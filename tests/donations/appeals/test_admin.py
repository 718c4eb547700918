"""Staff run an experiment from the admin: create it with two variants, start it, watch the
figures, stop it and make the winner live."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from donations.appeals.figures import wilson
from donations.appeals.models import Appeal, Experiment, Variant, VariantGifts

pytestmark = pytest.mark.django_db


def create_experiment(staff: Client) -> Experiment:
    appeal = Appeal.objects.get(is_live=True)
    data = {
        "name": "Shorter letter", "appeal": str(appeal.pk),
        "variants-TOTAL_FORMS": "2", "variants-INITIAL_FORMS": "0",
        "variants-MIN_NUM_FORMS": "0", "variants-MAX_NUM_FORMS": "1000",
        "variants-0-name": "A: as live", "variants-0-weight": "1",
        "variants-1-name": "B: short", "variants-1-weight": "1",
        "variants-1-heading": "One minute, please",
        "variants-1-letter": "Short and <b onmouseover='x()'>bold</b>.",
        "variants-1-headline": "Join us from {minimum} a month",
    }  # fmt: skip
    response = staff.post("/admin/appeals/experiment/add/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    return Experiment.objects.get(name="Shorter letter")


def test_staff_create_start_watch_and_conclude_an_experiment(
    client: Client, staff: Client, django_capture_on_commit_callbacks: Any
) -> None:
    experiment = create_experiment(staff)
    variant_b = experiment.variants.get(name="B: short")
    assert variant_b.letter == "<p>Short and <b>bold</b>.</p>"  # stored sanitised
    with django_capture_on_commit_callbacks(execute=True):
        staff.post("/admin/appeals/experiment/", {"action": "start",
                                                  "_selected_action": [experiment.pk]})  # fmt: skip
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.RUNNING

    shown = {"B": 0, "A": 0}
    for _ in range(40):
        page = Client().get("/").content.decode()
        shown["B" if "One minute, please" in page else "A"] += 1
    assert shown["A"] > 0
    assert shown["B"] > 0
    VariantGifts.objects.create(
        variant=variant_b, day=date(2026, 12, 1), frequency="monthly", currency="eur", gifts=3,
        amount=15,
    )  # fmt: skip

    figures = staff.get(f"/admin/appeals/experiment/{experiment.pk}/figures/")
    page = figures.content.decode()
    assert figures.status_code == 200
    assert f'<td class="impressions">{shown["B"]}</td>' in page  # folded on the way in
    assert "Conversion (% of impressions, cumulative)" in page  # the chart's axis
    assert "<svg" in page
    low, high = wilson(3, shown["B"])
    assert f"{100 * low:.2f}% \u2013 {100 * high:.2f}%" in page
    assert f"{300 / shown['B']:.2f}%" in page  # conversion: 3 gifts over B's impressions
    assert "5.00 EUR" in page  # recurring revenue per month

    with django_capture_on_commit_callbacks(execute=True):
        staff.post("/admin/appeals/experiment/", {"action": "conclude",
                                                  "_selected_action": [experiment.pk]})  # fmt: skip
    experiment.refresh_from_db()
    assert experiment.status == Experiment.Status.STOPPED
    assert experiment.winner == variant_b
    live = Appeal.objects.get(is_live=True)
    assert live.heading == "One minute, please"
    assert live.options.count() == 27  # B had no amounts of its own: the appeal's
    page = client.get("/").content.decode()
    assert "One minute, please" in page
    assert "Join us from $2 a month" in page
    assert "support_variant" not in client.get("/").cookies


def test_figures_page_button_makes_the_chosen_variant_live(
    staff: Client, django_capture_on_commit_callbacks: Any
) -> None:
    experiment = create_experiment(staff)
    variant_a = experiment.variants.get(name="A: as live")
    url = f"/admin/appeals/experiment/{experiment.pk}/figures/"
    assert staff.post(url, {"variant": "not-a-number"}).status_code == 302
    assert Experiment.objects.get(pk=experiment.pk).winner is None
    with django_capture_on_commit_callbacks(execute=True):
        assert staff.post(url, {"variant": str(variant_a.pk)}).status_code == 302
    assert Experiment.objects.get(pk=experiment.pk).winner == variant_a
    assert Appeal.objects.filter(is_live=True).count() == 1


def test_an_experiment_needs_two_variants_and_the_live_appeal(staff: Client) -> None:
    appeal = Appeal.objects.get(is_live=True)
    lonely = Experiment.objects.create(appeal=appeal, name="Lonely")
    Variant.objects.create(experiment=lonely, name="Only")
    response = staff.post("/admin/appeals/experiment/", {"action": "start",
                                                         "_selected_action": [lonely.pk]},
                          follow=True)  # fmt: skip
    assert "needs at least two variants" in response.content.decode()
    assert Experiment.objects.get(pk=lonely.pk).status == Experiment.Status.DRAFT


def test_admin_pages_load(staff: Client) -> None:
    appeal = Appeal.objects.get(is_live=True)
    for url in ("/admin/appeals/appeal/", f"/admin/appeals/appeal/{appeal.pk}/change/",
                "/admin/appeals/experiment/", "/admin/appeals/experiment/add/"):  # fmt: skip
        assert staff.get(url).status_code == 200, url
    assert staff.get("/admin/appeals/experiment/999/figures/").status_code == 404


def test_an_appeal_without_all_its_limits_cannot_go_live(
    staff: Client, client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    draft = Appeal.objects.create(
        name="Draft", heading="Draft heading", letter="Draft.", headline="From {minimum}"
    )
    action = {"action": "make_live", "_selected_action": [draft.pk]}
    response = staff.post("/admin/appeals/appeal/", action, follow=True)
    assert "missing: once USD" in response.content.decode()
    live = Appeal.objects.get(is_live=True)
    for limit in live.limits.all():
        limit.pk, limit.appeal = None, draft
        limit.save()
    with django_capture_on_commit_callbacks(execute=True):
        staff.post("/admin/appeals/appeal/", action)
    assert Appeal.objects.get(is_live=True) == draft
    assert "Draft heading" in client.get("/").content.decode()


def test_a_concluded_experiment_cannot_crown_a_second_winner(
    staff: Client, django_capture_on_commit_callbacks: Any
) -> None:
    experiment = create_experiment(staff)
    a, b = experiment.variants.order_by("pk")
    url = f"/admin/appeals/experiment/{experiment.pk}/figures/"
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(url, {"variant": str(a.pk)})
        page = staff.post(url, {"variant": str(b.pk)}, follow=True).content.decode()
    assert "has a winner already" in page
    assert Experiment.objects.get(pk=experiment.pk).winner == a
    assert Appeal.objects.count() == 2  # the first and the winner's, no third
