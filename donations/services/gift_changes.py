"""Changes a donor makes to a recurring gift from their page (or staff from the admin): a new
amount or frequency (proration off), pause, resume, cancel.

Stripe is asked first; only what it answered is stored (the same terms its webhook brings a
moment later). Each change is one `RecurringChange` row, shown on the page and in the admin,
and confirmed to the donor by one email (claimed when sent). A confirmation form submitted
twice carries the same key: Stripe replays its answer and the second submit changes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from decimal import Decimal

from django.db import transaction

from donations import frequencies, stripe_client
from donations.models import Donor, RecurringChange, RecurringDonation
from donations.selectors import ACTIVE_RECURRING
from donations.services.emails import send_recurring_change_notice
from donations.services.errors import DonationError
from donations.services.gift_terms import recurring_terms_apply
from donations.services.recurring import recurring_status_apply

logger = logging.getLogger(__name__)

Kind = RecurringChange.Kind


def recurring_of_donor(*, donor: Donor, recurring_id: int) -> RecurringDonation:
    """The donor's own recurring gift; any other id is refused the same way as an unknown one."""
    recurring = RecurringDonation.objects.filter(pk=recurring_id, donor=donor).first()
    if recurring is None:
        raise DonationError("We could not find that gift among yours.")
    return recurring


def _live(recurring: RecurringDonation) -> None:
    if recurring.status not in ACTIVE_RECURRING:
        raise DonationError("This gift is no longer active, so it cannot be changed.")


def _key(recurring: RecurringDonation, kind: str, attempt: str) -> str:
    return f"gift-{recurring.pk}-{kind}-{attempt}"[:80]


def _record(
    recurring: RecurringDonation,
    *,
    kind: str,
    by: str,
    key: str,
    old: tuple[Decimal, str],
    terms: stripe_client.Subscription | None,
) -> RecurringChange:
    """Store Stripe's answer on the locked gift and the change row; email the donor."""
    with transaction.atomic():
        locked = RecurringDonation.objects.select_for_update().get(pk=recurring.pk)
        now = int(time.time())
        if terms is not None:
            recurring_terms_apply(recurring=locked, subscription=terms, at=now)
        if kind == Kind.CANCEL:
            recurring_status_apply(
                recurring=locked, status=RecurringDonation.Status.CANCELLED, at=now
            )
        change = RecurringChange.objects.create(
            recurring=locked,
            kind=kind,
            by=by,
            request_key=key,
            old_amount=old[0],
            old_frequency=old[1],
            new_amount=locked.amount,
            new_frequency=locked.frequency,
            currency=locked.currency,
        )
        send_recurring_change_notice.delay_on_commit(change.pk)
    logger.info(
        "recurring gift changed",
        extra={"subscription": recurring.stripe_subscription_id, "kind": kind, "by": by},
    )
    return change


def _change(
    recurring: RecurringDonation,
    *,
    kind: str,
    attempt: str,
    by: str,
    check: Callable[[], None],
    ask_stripe: Callable[[str], stripe_client.Subscription | None],
) -> RecurringChange:
    """Once per confirmed form: `check` refuses what cannot be done, `ask_stripe` (given the
    idempotency key) makes the change there, and its answer is stored with the change row."""
    key = _key(recurring, kind, attempt)
    done = RecurringChange.objects.filter(request_key=key).first()
    if done is not None:
        return done  # the same confirmation submitted again
    check()
    terms = ask_stripe(key)
    old = (recurring.amount, recurring.frequency)
    return _record(recurring, kind=kind, by=by, key=key, old=old, terms=terms)


def _refuse_if(condition: bool, message: str) -> None:
    if condition:
        raise DonationError(message)


def recurring_terms_change(
    *,
    recurring: RecurringDonation,
    amount: Decimal,
    frequency: str,
    attempt: str,
    by: str = RecurringChange.By.DONOR,
) -> RecurringChange:
    """A new amount and/or frequency (validated by the caller's form)."""

    def check() -> None:
        _live(recurring)
        _refuse_if(frequency not in frequencies.recurring_values(), "Choose how often to give.")
        _refuse_if(
            (amount, frequency) == (recurring.amount, recurring.frequency),
            "That is the gift as it is now: nothing to change.",
        )

    def ask_stripe(key: str) -> stripe_client.Subscription:
        interval = frequencies.get(frequency).stripe_interval
        assert interval is not None  # noqa: S101 - check() let only recurring rows through
        return stripe_client.subscription_price_change(
            subscription=stripe_client.subscription_retrieve(recurring.stripe_subscription_id),
            amount=amount,
            interval=stripe_client.Recurring(interval=interval[0], interval_count=interval[1]),
            metadata={"frequency": frequency},
            idempotency_key=key,
        )

    return _change(
        recurring, kind=Kind.TERMS, attempt=attempt, by=by, check=check, ask_stripe=ask_stripe
    )


def recurring_pause(
    *, recurring: RecurringDonation, attempt: str, by: str = RecurringChange.By.DONOR
) -> RecurringChange:
    def check() -> None:
        _live(recurring)
        _refuse_if(recurring.paused, "This gift is already paused.")

    return _change(
        recurring, kind=Kind.PAUSE, attempt=attempt, by=by, check=check,
        ask_stripe=lambda key: stripe_client.subscription_pause(
            recurring.stripe_subscription_id, idempotency_key=key
        ),
    )  # fmt: skip


def recurring_resume(
    *, recurring: RecurringDonation, attempt: str, by: str = RecurringChange.By.DONOR
) -> RecurringChange:
    def check() -> None:
        _live(recurring)
        _refuse_if(not recurring.paused, "This gift is not paused.")

    return _change(
        recurring, kind=Kind.RESUME, attempt=attempt, by=by, check=check,
        ask_stripe=lambda key: stripe_client.subscription_resume(
            recurring.stripe_subscription_id, idempotency_key=key
        ),
    )  # fmt: skip


def recurring_stop(
    *, recurring: RecurringDonation, attempt: str, by: str = RecurringChange.By.DONOR
) -> RecurringChange:
    """Cancel at once: nothing more is charged."""

    def ask_stripe(key: str) -> None:
        stripe_client.subscription_cancel(recurring.stripe_subscription_id)

    return _change(
        recurring, kind=Kind.CANCEL, attempt=attempt, by=by, ask_stripe=ask_stripe,
        check=lambda: _refuse_if(
            recurring.status == RecurringDonation.Status.CANCELLED,
            "This gift is already cancelled.",
        ),
    )  # fmt: skip
