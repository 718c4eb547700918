"""The figures page of an experiment (staff only) and its "make this variant live" button."""

from __future__ import annotations

import logging

from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from redis.exceptions import RedisError

from donations.appeals.chart import conversion_chart
from donations.appeals.figures import experiment_figures, leader
from donations.appeals.models import Experiment
from donations.appeals.services.appeals import experiment_conclude
from donations.appeals.services.counting import fold_counters
from donations.appeals.services.errors import AppealError

logger = logging.getLogger(__name__)


def figures_view(request: HttpRequest, pk: int) -> HttpResponse:
    experiment = get_object_or_404(Experiment, pk=pk)
    if request.method == "POST":
        return _conclude(request, experiment)
    try:
        fold_counters()  # the latest counts, without waiting for beat
    except RedisError as error:
        logger.warning("appeal counters not folded", extra={"error": type(error).__name__})
    figures = experiment_figures(experiment)
    context = {
        **admin.site.each_context(request),
        "title": f"Figures: {experiment.name}",
        "experiment": experiment,
        "figures": figures,
        "leader": leader(figures),
        "chart": conversion_chart(figures),
    }
    return render(request, "admin/appeals/figures.html", context)


def _conclude(request: HttpRequest, experiment: Experiment) -> HttpResponse:
    if not request.user.has_perm("appeals.change_experiment"):
        return HttpResponse(status=403)
    raw = str(request.POST.get("variant", ""))
    winner = (
        experiment.variants.filter(pk=int(raw)).first() if raw.isdigit() and len(raw) < 12 else None
    )
    if winner is None:
        messages.error(request, "Choose a variant of this experiment.")
    else:
        try:
            appeal = experiment_conclude(experiment=experiment, winner=winner)
            messages.success(request, f"“{winner.name}” won; “{appeal.name}” is live.")
        except AppealError as error:
            messages.error(request, str(error))
    return HttpResponseRedirect(reverse("admin:appeals_experiment_figures", args=[experiment.pk]))
