"""The donations app's Celery tasks, for Celery's autodiscovery.

Each task is defined beside the service it runs (thin: ids in, one service call), so services
queue work with `task.delay_on_commit(id)` without importing this module: nothing imports it
but Celery. Task names stay `donations.tasks.<name>` (messages already queued keep running).
"""

from donations.services.emails import (
    resend_receipt,
    send_dispute_notice,
    send_manage_link,
    send_past_due_notice,
    send_receipt,
    send_recurring_change_notice,
    send_reminder,
    send_statement,
)
from donations.services.invoices import fill_payment_intent
from donations.services.reminders import send_due_reminders
from donations.services.retention import enforce_retention
from donations.services.sweep import sweep_unsent_emails

__all__ = [
    "enforce_retention",
    "fill_payment_intent",
    "resend_receipt",
    "send_dispute_notice",
    "send_due_reminders",
    "send_manage_link",
    "send_past_due_notice",
    "send_receipt",
    "send_recurring_change_notice",
    "send_reminder",
    "send_statement",
    "sweep_unsent_emails",
]
