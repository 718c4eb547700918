"""The double opt-in email. Thin: load the row, build the message, send. Transient errors are
retried by the task base; a permanent refusal is logged and dropped."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from newsletter.models import Subscriber
from newsletter.tokens import confirm_url
from newsroom import mail
from newsroom.task_base import task

logger = logging.getLogger(__name__)

CONFIRMATION_SUBJECT = "Please confirm your subscription to {site}"


def confirmation_message(subscriber: Subscriber) -> EmailMultiAlternatives:
    """The confirmation email (plain text and HTML) with the subscriber's signed, expiring link."""
    context = {
        "SITE_NAME": settings.SITE_NAME,
        "postal_address": settings.NEWSROOM_POSTAL_ADDRESS,
        "confirm_url": confirm_url(subscriber.pk),
        "valid_days": max(1, settings.NEWSLETTER_CONFIRM_MAX_AGE // 86400),
    }
    message = EmailMultiAlternatives(
        subject=CONFIRMATION_SUBJECT.format(site=settings.SITE_NAME),
        body=render_to_string("newsletter/confirmation_email.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[subscriber.email],
        headers={"Auto-Submitted": "auto-generated"},
    )
    message.attach_alternative(
        render_to_string("newsletter/confirmation_email.html", context), "text/html"
    )
    return message


@task(time_limit=60, soft_time_limit=45)
def send_confirmation_email(subscriber_id: int) -> None:
    """Send the confirmation to a still-pending subscriber; a confirmed or gone one gets nothing.

    A 4xx reply for the recipient is retried later; a 5xx one is logged and dropped.
    """
    subscriber = Subscriber.objects.filter(
        pk=subscriber_id, status=Subscriber.Status.PENDING
    ).first()
    if subscriber is None:
        return
    try:
        mail.send(confirmation_message(subscriber))
    except mail.MailRefused as error:
        logger.warning(
            "newsletter.confirmation.refused", extra={"subscriber_id": subscriber_id, **error.extra}
        )
        return
    logger.info("newsletter.confirmation.sent", extra={"subscriber_id": subscriber_id})
