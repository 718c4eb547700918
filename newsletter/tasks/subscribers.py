"""The double opt-in email. Thin: load the row, build the message, send; retry transient errors."""

from __future__ import annotations

import logging
import smtplib

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from newsletter.models import Subscriber
from newsletter.tokens import CONFIRM_MAX_AGE, confirm_url

logger = logging.getLogger(__name__)

CONFIRMATION_SUBJECT = "Please confirm your subscription to {site}"


def confirmation_message(subscriber: Subscriber) -> EmailMultiAlternatives:
    """The confirmation email (plain text and HTML) with the subscriber's signed, expiring link."""
    max_age = getattr(settings, "NEWSLETTER_CONFIRM_MAX_AGE", CONFIRM_MAX_AGE)
    context = {
        "SITE_NAME": settings.SITE_NAME,
        "postal_address": settings.NEWSROOM_POSTAL_ADDRESS,
        "confirm_url": confirm_url(subscriber.pk),
        "valid_days": max(1, max_age.days),
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


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, ConnectionError),
    retry_backoff=30,
    retry_backoff_max=600,
    max_retries=5,
    time_limit=60,
    soft_time_limit=45,
)
def send_confirmation_email(self: object, subscriber_id: int) -> None:
    """Send the confirmation to a still-pending subscriber; a confirmed or gone one gets nothing.

    A 4xx reply for the recipient is retried later; a 5xx one is logged and dropped.
    """
    subscriber = Subscriber.objects.filter(
        pk=subscriber_id, status=Subscriber.Status.PENDING
    ).first()
    if subscriber is None:
        return
    try:
        confirmation_message(subscriber).send()
    except smtplib.SMTPRecipientsRefused as error:
        codes = [code for code, _ in error.recipients.values()]
        if any(400 <= code < 500 for code in codes):
            raise ConnectionError("temporary refusal") from error
        logger.warning(
            "newsletter.confirmation.refused",
            extra={"subscriber_id": subscriber_id, "smtp_codes": codes},
        )
        return
    logger.info("newsletter.confirmation.sent", extra={"subscriber_id": subscriber_id})
