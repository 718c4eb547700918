"""Every write on a subscriber: sign up, confirm, leave, come back, and mail-provider events.

No address is ever logged: log lines carry the subscriber id only.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from newsletter.models import Subscriber, SubscriberEvent
from newsletter.services.suppression import (
    event_record,
    subscriber_suppress,
    unsubscribe_events_record,
)
from newsletter.tasks.subscribers import send_confirmation_email
from newsroom.erased import erased_address_welcome_back
from newsroom.errors import ApplicationError
from newsroom.mail_quota import mail_quota_take

logger = logging.getLogger(__name__)

MAX_EMAIL_LENGTH = 254
INVALID_EMAIL_MESSAGE = "Please enter a valid email address, such as name@example.org."


class SubscriberError(ApplicationError):
    """A subscriber write that cannot happen, with a message safe to show."""


class SignupOutcome(enum.StrEnum):
    """What a sign-up did. Never shown to the reader: the page is the same for all of them."""

    CONFIRMATION_SENT = "confirmation_sent"
    CONFIRMATION_RECENTLY_SENT = "confirmation_recently_sent"
    ALREADY_ACTIVE = "already_active"
    SUPPRESSED = "suppressed"
    MAIL_QUOTA_REACHED = "mail_quota_reached"


def email_normalise(raw: str) -> str:
    """Trim and lower-case an address, or raise ValidationError with a reader-facing message."""
    email = (raw or "").strip().lower()
    if not email or len(email) > MAX_EMAIL_LENGTH or any(ch.isspace() for ch in email):
        raise ValidationError(INVALID_EMAIL_MESSAGE, code="invalid")
    validate_email(email)  # raises ValidationError(code="invalid")
    local, _, domain = email.rpartition("@")
    if local.startswith('"') or domain.startswith("["):
        # Django accepts these, but a quoted local part may hold characters SMTP forbids (the
        # mail library drops them and mails someone else) and an IP literal would have our
        # mail server connect wherever the sign-up says. No reader needs either.
        raise ValidationError(INVALID_EMAIL_MESSAGE, code="invalid")
    return email


def _resend_interval() -> timedelta:
    return timedelta(seconds=settings.NEWSLETTER_CONFIRMATION_RESEND_SECONDS)


def _claim_confirmation_slot(subscriber_id: int, now: datetime) -> bool:
    """Mark a confirmation as sent now unless one went out recently; True if this call may send.

    A conditional UPDATE, so two simultaneous sign-ups for one address send one email.
    """
    recent = now - _resend_interval()
    claimed = (
        Subscriber.objects.filter(pk=subscriber_id, status=Subscriber.Status.PENDING)
        .filter(Q(confirmation_sent_at__isnull=True) | Q(confirmation_sent_at__lte=recent))
        .update(confirmation_sent_at=now, updated_at=now)
    )
    return claimed == 1


def _release_confirmation_slot(subscriber_id: int, claimed_at: datetime) -> None:
    """Undo a claim whose email was not sent after all, so a later sign-up may send one."""
    Subscriber.objects.filter(pk=subscriber_id, confirmation_sent_at=claimed_at).update(
        confirmation_sent_at=None
    )


def _queue_confirmation(subscriber_id: int) -> None:
    send_confirmation_email.delay_on_commit(subscriber_id)


def _record_consent(subscriber: Subscriber, *, source: str, now: datetime) -> None:
    subscriber.consent_at = now
    subscriber.consent_policy_version = settings.NEWSLETTER_PRIVACY_POLICY_VERSION
    subscriber.consent_source = source
    subscriber.source = subscriber.source or source


@transaction.atomic
def subscriber_signup(*, email: str, source: str, now: datetime | None = None) -> SignupOutcome:
    """Sign an address up (double opt-in), given the reader's consent on page `source`.

    New, pending, unsubscribed or complained addresses become pending with a fresh consent
    record and get a confirmation email, at most one per address per resend interval and
    within the address's hourly share of requested mail (`newsroom.mail_quota`). An active
    address is left as it is and gets nothing; a bounced one is not mailed again.
    """
    now = now or timezone.now()
    email = email_normalise(email)
    subscriber = Subscriber.objects.select_for_update().filter(email=email).first()
    if subscriber is None:
        subscriber = Subscriber(email=email, status=Subscriber.Status.PENDING)
        _record_consent(subscriber, source=source, now=now)
        try:
            with transaction.atomic():
                subscriber.save()
        except IntegrityError:  # a simultaneous sign-up created it first
            subscriber = Subscriber.objects.select_for_update().get(email=email)
        else:
            logger.info("newsletter.signup.created", extra={"subscriber_id": subscriber.pk})
    if subscriber.status == Subscriber.Status.ACTIVE:
        return SignupOutcome.ALREADY_ACTIVE
    if subscriber.status == Subscriber.Status.BOUNCED:
        logger.info("newsletter.signup.suppressed", extra={"subscriber_id": subscriber.pk})
        return SignupOutcome.SUPPRESSED
    if subscriber.status != Subscriber.Status.PENDING or subscriber.consent_at != now:
        subscriber.status = Subscriber.Status.PENDING
        _record_consent(subscriber, source=source, now=now)
        subscriber.save(
            update_fields=[
                "status", "consent_at", "consent_policy_version", "consent_source", "source",
                "updated_at",
            ]
        )  # fmt: skip
    if not _claim_confirmation_slot(subscriber.pk, now):
        return SignupOutcome.CONFIRMATION_RECENTLY_SENT
    if not mail_quota_take(email=email, purpose="newsletter_confirmation"):
        _release_confirmation_slot(subscriber.pk, now)
        return SignupOutcome.MAIL_QUOTA_REACHED
    _queue_confirmation(subscriber.pk)
    logger.info("newsletter.signup.confirmation_queued", extra={"subscriber_id": subscriber.pk})
    return SignupOutcome.CONFIRMATION_SENT


@transaction.atomic
def subscriber_confirm(*, subscriber_id: int, now: datetime | None = None) -> Subscriber:
    """Turn a pending subscriber active. Confirming twice is harmless; a left one must re-sign."""
    subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
    if subscriber is None:
        raise SubscriberError("This confirmation link is no longer valid.")
    if subscriber.status == Subscriber.Status.ACTIVE:
        return subscriber
    if subscriber.status != Subscriber.Status.PENDING:
        raise SubscriberError(
            "This confirmation link is no longer valid. Please sign up again if you wish."
        )
    subscriber.status = Subscriber.Status.ACTIVE
    subscriber.confirmed_at = now or timezone.now()
    subscriber.unsubscribed_at = None
    subscriber.save(update_fields=["status", "confirmed_at", "unsubscribed_at", "updated_at"])
    # Signed up through the form and confirmed: an address once erased is welcome back, with
    # the consent this sign-up recorded.
    erased_address_welcome_back(subscriber.email)
    logger.info("newsletter.subscriber.confirmed", extra={"subscriber_id": subscriber.pk})
    return subscriber


def subscriber_unsubscribe(
    *, subscriber_id: int, source: str = SubscriberEvent.Source.LINK, now: datetime | None = None
) -> bool:
    """Take a subscriber off the list at once. True if their status changed.

    An address already off the list (unsubscribed, bounced, complained) or erased stays so.
    The change goes into their history, counted against the last issue they were sent.
    """
    now = now or timezone.now()
    with transaction.atomic():
        changed = subscriber_suppress(
            subscriber_id=subscriber_id, status=Subscriber.Status.UNSUBSCRIBED, now=now
        )
        if changed:
            unsubscribe_events_record(subscriber_ids=[subscriber_id], source=source, now=now)
    if changed:
        logger.info(
            "newsletter.subscriber.unsubscribed",
            extra={"subscriber_id": subscriber_id, "source": str(source)},
        )
    return changed


@transaction.atomic
def subscribers_unsubscribe(*, subscriber_ids: Iterable[int], now: datetime | None = None) -> int:
    """Staff's bulk action: the subscribers named leave the list. How many did."""
    now = now or timezone.now()
    ids = list(subscriber_ids)
    leaving = list(
        Subscriber.objects.select_for_update()
        .filter(pk__in=ids, status__in=[Subscriber.Status.ACTIVE, Subscriber.Status.PENDING])
        .values_list("pk", flat=True)
    )
    changed = Subscriber.objects.filter(pk__in=leaving).update(
        status=Subscriber.Status.UNSUBSCRIBED, unsubscribed_at=now, updated_at=now
    )
    unsubscribe_events_record(subscriber_ids=leaving, source=SubscriberEvent.Source.STAFF, now=now)
    logger.info(
        "newsletter.subscribers.unsubscribed", extra={"selected": len(ids), "changed": changed}
    )
    return changed


class TrackingEvent(enum.StrEnum):
    BOUNCED = "bounced"
    COMPLAINED = "complained"
    UNSUBSCRIBED = "unsubscribed"


_TRACKING_STATUS = {
    TrackingEvent.BOUNCED: Subscriber.Status.BOUNCED,
    TrackingEvent.COMPLAINED: Subscriber.Status.COMPLAINED,
    TrackingEvent.UNSUBSCRIBED: Subscriber.Status.UNSUBSCRIBED,
}
_TRACKING_KIND = {
    TrackingEvent.BOUNCED: SubscriberEvent.Kind.HARD_BOUNCE,
    TrackingEvent.COMPLAINED: SubscriberEvent.Kind.COMPLAINT,
    TrackingEvent.UNSUBSCRIBED: SubscriberEvent.Kind.UNSUBSCRIBE,
}


def subscriber_record_tracking_event(
    *, email: str, event: TrackingEvent, now: datetime | None = None
) -> bool:
    """Apply a mail provider's bounce / complaint / unsubscribe to the address. True if changed.

    A later, weaker event never overrides a stronger suppression (an unsubscribe after a
    complaint stays a complaint), so replays and out-of-order deliveries are harmless. A change
    goes into the subscriber's history (without an issue: the webhook does not name ours).
    """
    now = now or timezone.now()
    try:
        email = email_normalise(email)
    except ValidationError:
        return False
    subscriber_id = Subscriber.objects.filter(email=email).values_list("pk", flat=True).first()
    if subscriber_id is None:
        return False
    with transaction.atomic():
        changed = subscriber_suppress(
            subscriber_id=subscriber_id, status=_TRACKING_STATUS[event], now=now
        )
        if changed:
            event_record(
                subscriber_id=subscriber_id,
                kind=_TRACKING_KIND[event],
                source=SubscriberEvent.Source.PROVIDER,
                issue_id=None,
                suppressed=True,
            )
    logger.info(
        "newsletter.subscriber.tracking_event",
        extra={"subscriber_id": subscriber_id, "event": str(event), "changed": changed},
    )
    return changed
