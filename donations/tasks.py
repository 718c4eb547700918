"""Celery tasks: thin, idempotent (each email is claimed in the database), queued on commit."""

from __future__ import annotations

from smtplib import SMTPException
from typing import Any

from celery import shared_task

from donations import stripe_client
from donations.services import emails, invoices, reminders, sweep

TRANSIENT = (SMTPException, ConnectionError, TimeoutError)
# Every email task: retried with backoff on a transient SMTP or network error, acknowledged
# after it ran (each email is claimed in the database, so a redelivery sends nothing twice).
EMAIL_TASK: dict[str, Any] = {
    "autoretry_for": TRANSIENT,
    "retry_backoff": True,
    "retry_kwargs": {"max_retries": 8},
    "acks_late": True,
}


@shared_task(name="donations.tasks.send_receipt", **EMAIL_TASK)
def send_receipt(donation_id: int) -> bool:
    return emails.receipt_send(donation_id=donation_id)


@shared_task(name="donations.tasks.send_past_due_notice", **EMAIL_TASK)
def send_past_due_notice(failure_id: int) -> bool:
    return emails.past_due_notice_send(failure_id=failure_id)


@shared_task(name="donations.tasks.send_manage_link", **EMAIL_TASK)
def send_manage_link(donor_id: int) -> None:
    emails.manage_link_send(donor_id=donor_id)


@shared_task(name="donations.tasks.send_reminder", **EMAIL_TASK)
def send_reminder(reminder_id: int) -> bool:
    return emails.reminder_send(reminder_id=reminder_id)


@shared_task(name="donations.tasks.send_due_reminders")
def send_due_reminders() -> int:
    return reminders.reminders_queue_due()


@shared_task(
    name="donations.tasks.fill_payment_intent",
    autoretry_for=(stripe_client.StripeUnavailable,),
    retry_backoff=True,
    retry_kwargs={"max_retries": 8},
    acks_late=True,
)
def fill_payment_intent(donation_id: int) -> str:
    return invoices.donation_payment_intent_fill(donation_id=donation_id)


@shared_task(name="donations.tasks.sweep_unsent_emails")
def sweep_unsent_emails() -> int:
    return sweep.unsent_emails_requeue()


@shared_task(name="donations.tasks.send_dispute_notice", **EMAIL_TASK)
def send_dispute_notice(donation_id: int) -> bool:
    return emails.dispute_notice_send(donation_id=donation_id)
