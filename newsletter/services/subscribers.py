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
from django.db.models import Q, QuerySet
from django.utils import timezone

from newsletter.models import Subscriber
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


def _unsubscribe_rows(rows: QuerySet[Subscriber], *, now: datetime) -> int:
    """One UPDATE: those of `rows` on the list leave it; the others stay as they are."""
    return rows.filter(status__in=[Subscriber.Status.ACTIVE, Subscriber.Status.PENDING]).update(
        status=Subscriber.Status.UNSUBSCRIBED, unsubscribed_at=now, updated_at=now
    )


def subscriber_unsubscribe(*, subscriber_id: int, now: datetime | None = None) -> bool:
    """Take a subscriber off the list at once (no row lock wait). True if their status changed.

    An address already off the list (unsubscribed, bounced, complained) or erased stays so.
    """
    rows = Subscriber.objects.filter(pk=subscriber_id)
    changed = _unsubscribe_rows(rows, now=now or timezone.now()) == 1
    if changed:
        logger.info("newsletter.subscriber.unsubscribed", extra={"subscriber_id": subscriber_id})
    return changed


def subscribers_unsubscribe(*, subscriber_ids: Iterable[int], now: datetime | None = None) -> int:
    """Staff's bulk action: the subscribers named leave the list in one UPDATE. How many did."""
    ids = list(subscriber_ids)
    changed = _unsubscribe_rows(Subscriber.objects.filter(pk__in=ids), now=now or timezone.now())
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
# A later, weaker event never overrides a stronger suppression (an unsubscribe after a
# complaint stays a complaint), so replays and out-of-order deliveries are harmless.
_STATUS_STRENGTH = {
    Subscriber.Status.PENDING: 0,
    Subscriber.Status.ACTIVE: 0,
    Subscriber.Status.UNSUBSCRIBED: 1,
    Subscriber.Status.BOUNCED: 2,
    Subscriber.Status.COMPLAINED: 3,
}


def subscriber_record_tracking_event(
    *, email: str, event: TrackingEvent, now: datetime | None = None
) -> bool:
    """Apply a mail provider's bounce / complaint / unsubscribe to the address. True if changed."""
    now = now or timezone.now()
    try:
        email = email_normalise(email)
    except ValidationError:
        return False
    new_status = _TRACKING_STATUS[event]
    floor = _STATUS_STRENGTH[new_status]
    weaker = [status for status, strength in _STATUS_STRENGTH.items() if strength < floor]
    updates: dict[str, object] = {"status": new_status, "updated_at": now}
    if new_status == Subscriber.Status.UNSUBSCRIBED:
        updates["unsubscribed_at"] = now
    subscriber_id = Subscriber.objects.filter(email=email).values_list("pk", flat=True).first()
    if subscriber_id is None:
        return False
    changed = Subscriber.objects.filter(pk=subscriber_id, status__in=weaker).update(**updates) == 1
    logger.info(
        "newsletter.subscriber.tracking_event",
        extra={"subscriber_id": subscriber_id, "event": str(event), "changed": changed},
    )
    return changed
