"""Reminders, disputes, raw Stripe events and failed renewals (the banner's amounts are the
appeal's). Records of what Stripe said are read-only."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest
from django.utils.safestring import SafeString

from donations.admin.donors import ReminderForm
from donations.admin.links import stripe_link
from donations.models import Dispute, FailedPayment, Reminder, StripeEvent


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    form = ReminderForm
    list_display = ("email", "asked_at", "due_at", "sent_at", "opted_out_at", "skipped_at")
    list_filter = ("due_at", "sent_at")
    search_fields = ("email",)
    readonly_fields = (
        "asked_at", "sent_at", "opted_out_at", "skipped_at", "created_at", "updated_at",
    )  # fmt: skip


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    """What Stripe's newest event about each dispute said; staff answer disputes in Stripe."""

    list_display = ("stripe_dispute_id", "donation", "amount", "currency", "outcome", "closed_at")
    list_filter = ("outcome", "currency", "closed_at")
    search_fields = ("stripe_dispute_id", "donation__stripe_payment_intent_id")
    list_select_related = ("donation",)
    readonly_fields = (
        "dispute_link", "donation", "amount", "currency", "stripe_status", "outcome",
        "closed_at", "created_at", "updated_at",
    )  # fmt: skip
    exclude = ("stripe_dispute_id", "status_changed_by_event_at")

    @admin.display(description="Stripe dispute")
    def dispute_link(self, obj: Dispute) -> SafeString | str:
        return stripe_link(obj.stripe_dispute_id)


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ("stripe_id", "type", "handled", "livemode", "created_at")
    list_filter = ("type", "handled", "livemode", "created_at")
    search_fields = ("stripe_id", "object_id")
    readonly_fields = (
        "event_link",
        "type",
        "object_link",
        "stripe_created",
        "handled",
        "created_at",
    )
    exclude = ("stripe_id", "object_id")

    @admin.display(description="Stripe event")
    def event_link(self, obj: StripeEvent) -> SafeString | str:
        return stripe_link(obj.stripe_id, livemode=obj.livemode)

    @admin.display(description="Object")
    def object_link(self, obj: StripeEvent) -> SafeString | str:
        return stripe_link(obj.object_id, livemode=obj.livemode)


@admin.register(FailedPayment)
class FailedPaymentAdmin(ReadOnlyAdmin):
    list_display = ("stripe_invoice_id", "recurring", "notice_sent_at", "created_at")
    search_fields = ("stripe_invoice_id", "recurring__donor__email")
