"""Experiments and their variants; start, stop, and "stop and make the winner live"."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString

from donations.appeals.admin.appeals import AmountOptionInline, AppealChanged
from donations.appeals.admin.figures import figures_view
from donations.appeals.admin.forms import VariantForm
from donations.appeals.figures import experiment_figures, leader
from donations.appeals.models import Experiment, Variant
from donations.appeals.services.appeals import (
    experiment_conclude,
    experiment_start,
    experiment_stop,
)
from donations.appeals.services.errors import AppealError


class VariantInline(admin.StackedInline):
    model = Variant
    form = VariantForm
    extra = 0
    show_change_link = True
    verbose_name_plural = (
        "Variants (blank fields keep the appeal's words; open a variant to give it its own amounts)"
    )


@admin.register(Experiment)
class ExperimentAdmin(AppealChanged, admin.ModelAdmin):
    list_display = ("name", "appeal", "status", "started_at", "stopped_at", "figures_link")
    list_filter = ("status",)
    readonly_fields = ("status", "started_at", "stopped_at", "winner", "figures_link")
    fields = ("name", "appeal", *readonly_fields)
    inlines = (VariantInline,)
    actions = ("start", "stop", "conclude")

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view(figures_view)
        return [
            path("<int:pk>/figures/", view, name="appeals_experiment_figures"),
            *super().get_urls(),
        ]

    @admin.display(description="Figures")
    def figures_link(self, obj: Experiment) -> SafeString | str:
        if obj.pk is None:
            return "—"
        url = reverse("admin:appeals_experiment_figures", args=[obj.pk])
        return format_html('<a href="{}">Figures</a>', url)

    def _each(self, request: HttpRequest, queryset: QuerySet[Experiment], action: str) -> None:
        for experiment in queryset:
            try:
                if action == "start":
                    experiment_start(experiment=experiment)
                else:
                    experiment_stop(experiment=experiment)
            except AppealError as error:
                self.message_user(request, f"{experiment}: {error}", messages.ERROR)
            else:
                self.message_user(request, f"{experiment}: {action}ped.".replace("startped",
                                  "started"), messages.SUCCESS)  # fmt: skip

    @admin.action(description="Start the selected experiment")
    def start(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        self._each(request, queryset, "start")

    @admin.action(description="Stop the selected experiments")
    def stop(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        self._each(request, queryset, "stop")

    @admin.action(description="Stop and make the winner live")
    def conclude(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        for experiment in queryset:
            winner = leader(experiment_figures(experiment))
            if winner is None:
                self.message_user(
                    request, f"{experiment}: no impressions yet, so no winner.", messages.ERROR
                )
                continue
            try:
                appeal = experiment_conclude(experiment=experiment, winner=winner)
            except AppealError as error:
                self.message_user(request, f"{experiment}: {error}", messages.ERROR)
                continue
            self.message_user(
                request, f"{experiment}: “{winner.name}” won; “{appeal.name}” is live.",
                messages.SUCCESS,
            )  # fmt: skip


class VariantOptionInline(AmountOptionInline):
    fk_name = "variant"
    verbose_name_plural = "This variant's own amounts (none: the appeal's amounts)"


@admin.register(Variant)
class VariantAdmin(AppealChanged, admin.ModelAdmin):
    form = VariantForm
    list_display = ("name", "experiment", "weight")
    list_filter = ("experiment",)
    inlines = (VariantOptionInline,)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return False  # reached from its experiment's page
