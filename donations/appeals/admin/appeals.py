"""The appeal: words, amounts per currency and frequency, minimums and maximums."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from donations.appeals.admin.forms import AppealForm
from donations.appeals.models import AmountLimit, AmountOption, Appeal
from donations.appeals.services.appeals import appeal_changed, appeal_make_live
from donations.appeals.services.errors import AppealError


class AmountOptionInline(admin.TabularInline):
    model = AmountOption
    fk_name = "appeal"
    fields = ("frequency", "currency", "amount", "is_default", "position")
    extra = 0
    verbose_name = "amount offered"
    verbose_name_plural = "Amounts offered (per frequency and currency; tick one as preselected)"


class AmountLimitInline(admin.TabularInline):
    model = AmountLimit
    fields = ("currency", "frequency", "minimum", "maximum")
    extra = 0
    verbose_name_plural = (
        "Smallest and largest gift per currency and frequency (the headline shows the "
        "monthly minimum)"
    )


class AppealChanged:
    """Saving or deleting through the admin tells every process to reload the appeal."""

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        appeal_changed()

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        super().delete_model(request, obj)  # type: ignore[misc]
        appeal_changed()

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        appeal_changed()


@admin.register(Appeal)
class AppealAdmin(AppealChanged, admin.ModelAdmin):
    form = AppealForm
    list_display = ("name", "is_live", "show_banner", "updated_at")
    list_filter = ("is_live",)
    inlines = (AmountOptionInline, AmountLimitInline)
    actions = ("make_live",)
    fieldsets = (
        (None, {"fields": ("name", "show_banner")}),
        ("What readers read", {"fields": ("heading", "letter", "sign_off", "headline")}),
        ("The form", {"fields": ("default_frequency",)}),
    )

    def has_delete_permission(self, request: HttpRequest, obj: Appeal | None = None) -> bool:
        return super().has_delete_permission(request, obj) and not (obj and obj.is_live)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Appeal]) -> None:
        super().delete_queryset(request, queryset.filter(is_live=False))

    @admin.action(description="Make the selected appeal live (one at a time)")
    def make_live(self, request: HttpRequest, queryset: QuerySet[Appeal]) -> None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one appeal.", messages.WARNING)
            return
        appeal = queryset.get()
        try:
            appeal_make_live(appeal=appeal)
        except AppealError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(request, f"“{appeal.name}” is live.", messages.SUCCESS)
