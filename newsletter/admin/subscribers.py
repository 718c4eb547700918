"""Staff's view of subscribers: list, filters, search, CSV import/export, data export, erase.

Every change goes through `newsletter.services`; the admin only parses and presents.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone

from newsletter.forms import SubscriberImportForm
from newsletter.models import Subscriber, SubscriberEvent
from newsletter.services.bounces import soft_bounce_streak
from newsletter.services.subscriber_data import (
    subscriber_data_export,
    subscriber_erase,
    subscribers_export_csv,
    subscribers_import_csv,
)
from newsletter.services.subscribers import SubscriberError, subscribers_unsubscribe
from newsroom.downloads import json_attachment


def _csv_response(queryset: QuerySet[Subscriber]) -> StreamingHttpResponse:
    rows = subscribers_export_csv(subscribers=queryset.order_by("pk").iterator(chunk_size=2000))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y-%m-%d")
    response["Content-Disposition"] = f'attachment; filename="subscribers-{stamp}.csv"'
    response["Cache-Control"] = "private, no-store"
    return response


class SubscriberEventInline(admin.TabularInline):
    """Why the subscriber left the list, or what their mail did: newest first, read-only."""

    model = SubscriberEvent
    verbose_name = "event"
    verbose_name_plural = "History: bounces, complaints and unsubscribes"
    fields = ("created_at", "kind", "source", "issue", "suppressed", "detail")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
    extra = 0
    can_delete = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[SubscriberEvent]:
        return super().get_queryset(request).select_related("issue")

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("newsletter.view_subscriber")


@admin.register(Subscriber)
class SubscriberAdmin(admin.ModelAdmin):
    list_display = ["email", "status", "source", "created_at", "confirmed_at", "unsubscribed_at"]
    list_filter = ["status", "consent_policy_version", "created_at", "confirmed_at"]
    search_fields = ["email"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    list_per_page = 100
    show_full_result_count = False
    readonly_fields = [
        "email", "status", "source", "consent_at", "consent_policy_version", "consent_source",
        "confirmation_sent_at", "confirmed_at", "unsubscribed_at", "created_at", "updated_at",
        "bounces_in_a_row",
    ]  # fmt: skip
    inlines = [SubscriberEventInline]
    actions = ["export_selected_csv", "unsubscribe_selected"]
    change_list_template = "newsletter/admin/subscriber_change_list.html"
    change_form_template = "newsletter/admin/subscriber_change_form.html"

    @admin.display(description="Bounces in a row")
    def bounces_in_a_row(self, obj: Subscriber) -> str:
        limit = settings.BOUNCE_SOFT_LIMIT
        return f"{soft_bounce_streak(obj.pk)} of the last sends (at {limit} the address is off)"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # people sign up themselves, or staff import a list with its consent

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # erasing goes through the erase page (it also removes delivery history)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("import/", view(self.import_view), name="newsletter_subscriber_import"),
            path("export/", view(self.export_view), name="newsletter_subscriber_export"),
            path("<int:pk>/data/", view(self.data_view), name="newsletter_subscriber_data"),
            path("<int:pk>/erase/", view(self.erase_view), name="newsletter_subscriber_erase"),
            *super().get_urls(),
        ]

    def _require(self, request: HttpRequest, action: str) -> None:
        if not request.user.has_perm(f"newsletter.{action}_subscriber"):
            raise PermissionDenied

    @admin.action(description="Export selected subscribers as CSV", permissions=["view"])
    def export_selected_csv(
        self, request: HttpRequest, queryset: QuerySet[Subscriber]
    ) -> StreamingHttpResponse:
        return _csv_response(queryset)

    @admin.action(description="Unsubscribe selected subscribers", permissions=["change"])
    def unsubscribe_selected(self, request: HttpRequest, queryset: QuerySet[Subscriber]) -> None:
        changed = subscribers_unsubscribe(subscriber_ids=queryset.values_list("pk", flat=True))
        self.message_user(request, f"{changed} subscriber(s) unsubscribed.", messages.SUCCESS)

    def import_view(self, request: HttpRequest) -> HttpResponse:
        self._require(request, "change")
        form = SubscriberImportForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                result = subscribers_import_csv(
                    file=form.cleaned_data["file"],
                    consent_source=form.cleaned_data["consent_source"],
                )
            except SubscriberError as error:
                form.add_error("file", str(error))
            else:
                self.message_user(
                    request,
                    f"Imported {result.created} new subscriber(s); skipped {result.existing} "
                    f"already on the list, {result.invalid} invalid address(es) and "
                    f"{result.erased} erased on request.",
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(reverse("admin:newsletter_subscriber_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": "Import subscribers from CSV",
        }
        return TemplateResponse(request, "newsletter/admin/subscriber_import.html", context)

    def export_view(self, request: HttpRequest) -> StreamingHttpResponse:
        self._require(request, "view")
        return _csv_response(Subscriber.objects.all())

    def data_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._require(request, "view")
        get_object_or_404(Subscriber, pk=pk)
        data = subscriber_data_export(subscriber_id=pk)
        return json_attachment(data, filename=f"subscriber-{pk}.json")

    def erase_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        self._require(request, "change")
        subscriber = get_object_or_404(Subscriber, pk=pk)
        if request.method == "POST":
            subscriber_erase(subscriber_id=pk)
            self.message_user(
                request,
                f"Subscriber #{pk} and their delivery history were erased.",
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:newsletter_subscriber_changelist"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "subscriber": subscriber,
            "deliveries": subscriber.deliveries.count(),
            "title": "Erase this subscriber?",
        }
        return TemplateResponse(request, "newsletter/admin/subscriber_erase.html", context)
