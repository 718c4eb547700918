"""Donors, payments and recurring gifts; staff actions call services."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import URLPattern, path
from django.utils.safestring import SafeString

from donations.admin import reports
from donations.admin.links import stripe_link
from donations.admin.stripe_bulk import stripe_action
from donations.models import Dispute, Donation, RecurringChange, RecurringDonation
from donations.services.emails import resend_receipt
from donations.services.staff import donation_refund, recurring_cancel


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class DonationInline(ReadOnlyInline):
    model = Donation
    fields = readonly_fields = ("paid_at", "amount", "currency", "frequency", "status")
    ordering = ("-paid_at",)


class RecurringInline(ReadOnlyInline):
    model = RecurringDonation
    fields = readonly_fields = (
        "frequency", "amount", "currency", "status", "started_at", "cancelled_at",
    )  # fmt: skip
    ordering = ("-created_at",)


class DisputeInline(ReadOnlyInline):
    model = Dispute
    fields = readonly_fields = ("amount", "currency", "stripe_status", "outcome", "closed_at")
    ordering = ("created_at",)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Donation)
class DonationAdmin(admin.ModelAdmin):
    list_display = ("pk", "donor", "amount", "currency", "frequency", "status", "paid_at")
    list_filter = ("frequency", "status", "currency", "paid_at")
    search_fields = ("donor__email", "stripe_payment_intent_id", "stripe_invoice_id")
    date_hierarchy = "paid_at"
    list_select_related = ("donor",)
    actions = ("refund", "receipt_resend")
    change_list_template = "admin/donations/donation/change_list.html"
    inlines = (DisputeInline,)
    readonly_fields = (
        "donor", "recurring", "frequency", "amount", "currency", "status", "paid_at",
        "amount_refunded", "source_page", "is_first_payment", "receipt_sent_at",
        "dispute_notice_sent_at", "session_link", "invoice_link", "payment_intent_link",
        "charge_link", "created_at", "updated_at",
    )  # fmt: skip
    exclude = (
        "stripe_checkout_session_id", "stripe_invoice_id", "stripe_payment_intent_id",
        "stripe_charge_id",
    )  # fmt: skip

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # payments come from Stripe

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("figures/", view(reports.figures_view), name="donations_figures"),
            path("export/", view(reports.export_view), name="donations_export"),
            *super().get_urls(),
        ]

    @admin.display(description="Checkout session")
    def session_link(self, obj: Donation) -> SafeString | str:
        return stripe_link(obj.stripe_checkout_session_id)

    @admin.display(description="Invoice")
    def invoice_link(self, obj: Donation) -> SafeString | str:
        return stripe_link(obj.stripe_invoice_id)

    @admin.display(description="Payment intent")
    def payment_intent_link(self, obj: Donation) -> SafeString | str:
        return stripe_link(obj.stripe_payment_intent_id)

    @admin.display(description="Charge")
    def charge_link(self, obj: Donation) -> SafeString | str:
        return stripe_link(obj.stripe_charge_id)

    refund = stripe_action(
        description="Refund selected payments in full (through Stripe)",
        act=lambda donation: donation_refund(donation=donation),
        done="Refunded {count} payment(s).", refused="Stripe did not accept the refund.",
    )  # fmt: skip

    @admin.action(description="Email the receipt again, with its PDF (paid payments)")
    def receipt_resend(self, request: HttpRequest, queryset: QuerySet[Donation]) -> None:
        paid = list(
            queryset.filter(status=Donation.Status.PAID, donor__email__isnull=False).values_list(
                "pk", flat=True
            )
        )
        for donation_id in paid:
            resend_receipt.delay_on_commit(donation_id)
        skipped = queryset.count() - len(paid)
        self.message_user(
            request,
            f"Queued {len(paid)} receipt(s); skipped {skipped} not paid or without an address.",
            messages.SUCCESS,
        )


class ChangeInline(ReadOnlyInline):
    model = RecurringChange
    fields = readonly_fields = (
        "created_at", "kind", "by", "old_amount", "new_amount", "old_frequency",
        "new_frequency", "currency", "notice_sent_at",
    )  # fmt: skip
    show_change_link = False


@admin.register(RecurringChange)
class RecurringChangeAdmin(admin.ModelAdmin):
    list_display = ("created_at", "recurring", "kind", "by", "old_amount", "new_amount", "currency")
    list_filter = ("kind", "by", "currency", "created_at")
    list_select_related = ("recurring",)
    readonly_fields = (
        "recurring", "kind", "by", "old_amount", "new_amount", "old_frequency", "new_frequency",
        "currency", "notice_sent_at", "created_at", "updated_at",
    )  # fmt: skip
    exclude = ("request_key",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(RecurringDonation)
class RecurringDonationAdmin(admin.ModelAdmin):
    list_display = ("pk", "donor", "frequency", "amount", "currency", "status", "started_at")
    list_filter = ("frequency", "status", "currency", "started_at")
    search_fields = ("donor__email", "stripe_subscription_id")
    list_select_related = ("donor",)
    actions = ("cancel",)
    readonly_fields = (
        "donor", "frequency", "amount", "currency", "status", "paused", "next_charge_at",
        "started_at", "cancelled_at", "subscription_link", "customer_link", "price_link",
        "created_at", "updated_at",
    )  # fmt: skip
    exclude = (
        "stripe_subscription_id", "stripe_customer_id", "stripe_price_id",
        "status_changed_by_event_at", "terms_changed_by_event_at",
    )  # fmt: skip
    inlines = (ChangeInline,)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="Stripe subscription")
    def subscription_link(self, obj: RecurringDonation) -> SafeString | str:
        return stripe_link(obj.stripe_subscription_id)

    @admin.display(description="Stripe price")
    def price_link(self, obj: RecurringDonation) -> SafeString | str:
        return stripe_link(obj.stripe_price_id)

    @admin.display(description="Stripe customer")
    def customer_link(self, obj: RecurringDonation) -> SafeString | str:
        return stripe_link(obj.stripe_customer_id)

    cancel = stripe_action(
        description="Cancel selected recurring gifts (through Stripe)",
        act=lambda recurring: recurring_cancel(recurring=recurring),
        done="Cancelled {count} recurring gift(s).",
        refused="Stripe did not accept the cancellation.",
    )  # fmt: skip
