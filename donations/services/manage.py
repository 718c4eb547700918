"""The donor's manage link: signed, expiring, naming one donor; it opens a Billing Portal
session for that donor's Stripe customer and no other."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.urls import reverse

from donations import stripe_client
from donations.models import Donor, RecurringDonation
from donations.selectors import normalise_email
from donations.services.errors import DonationError
from newsroom.mail_quota import mail_quota_take

logger = logging.getLogger(__name__)

MANAGE_SALT = "donations.manage-link"
PAST_DUE_SALT = "donations.manage-link.past-due"  # in "fix your card" emails, read days later


def manage_link_max_age() -> int:
    return int(getattr(settings, "DONATIONS_MANAGE_LINK_MAX_AGE", 3600))


def past_due_link_max_age() -> int:
    return int(getattr(settings, "DONATIONS_PAST_DUE_LINK_MAX_AGE", 7 * 86400))


def _lifetimes() -> dict[str, int]:
    return {MANAGE_SALT: manage_link_max_age(), PAST_DUE_SALT: past_due_link_max_age()}


def manage_token_make(*, donor: Donor, past_due: bool = False) -> str:
    salt = PAST_DUE_SALT if past_due else MANAGE_SALT
    return signing.dumps({"donor": donor.pk}, salt=salt, compress=True)


def manage_url(*, donor: Donor, past_due: bool = False) -> str:
    token = manage_token_make(donor=donor, past_due=past_due)
    return settings.SITE_URL + reverse("donations:manage_open", kwargs={"token": token})


def manage_token_read(*, token: str) -> Donor:
    """The donor a valid, unexpired link names; `DonationError` otherwise."""
    expired = False
    for salt, max_age in _lifetimes().items():
        try:
            data = signing.loads(token, salt=salt, max_age=max_age)
            return Donor.objects.get(pk=int(data["donor"]))
        except signing.SignatureExpired:
            expired = True
        except (signing.BadSignature, Donor.DoesNotExist, KeyError, TypeError, ValueError):
            continue
    if expired:
        raise DonationError("This link has expired. Ask for a new one below.")
    raise DonationError("This link is not valid. Ask for a new one below.")


def manage_link_request(*, email: str) -> None:
    """Email a manage link if this address gives; do nothing visible otherwise (the caller
    answers the same either way, so nobody learns who donates). An address already sent its
    hourly share of requested mail gets nothing more."""
    donor = Donor.objects.filter(email=normalise_email(email)).first()
    if donor is None or not mail_quota_take(email=donor.email, purpose="manage_link"):
        return
    from donations.tasks import send_manage_link

    donor_id = donor.pk
    transaction.on_commit(lambda: send_manage_link.delay(donor_id))


def _customer_of(donor: Donor) -> str:
    """The Stripe customer of the donor's latest recurring gift (a donor who gave again after
    cancelling may have a newer customer), else the donor's own."""
    latest = (
        RecurringDonation.objects.filter(donor=donor)
        .exclude(stripe_customer_id="")
        .order_by("-created_at")
        .values_list("stripe_customer_id", flat=True)
        .first()
    )
    return latest or donor.stripe_customer_id or ""


def manage_portal_open(*, token: str) -> str:
    """The Billing Portal URL for the donor the token names. The URL is a credential: the
    caller redirects to it and never logs it."""
    donor = manage_token_read(token=token)
    customer_id = _customer_of(donor)
    if not customer_id:
        raise DonationError("We have no recurring gift or saved card for this address.")
    portal = stripe_client.billing_portal_session_create(
        customer_id=customer_id,
        return_url=settings.SITE_URL + reverse("donations:support"),
    )
    logger.info("billing portal opened", extra={"donor": donor.pk})
    return portal.url
