"""The donor's manage link: signed, expiring, naming one donor (`donations.links`); it opens a
Billing Portal session for that donor's Stripe customer and no other."""

from __future__ import annotations

import logging

from django.conf import settings
from django.urls import reverse

from donations import stripe_client
from donations.links import manage_token_read
from donations.models import Donor, RecurringDonation
from donations.selectors import normalise_email
from donations.services.emails import send_manage_link
from donations.services.errors import DonationError
from newsroom.errors import ExpiredLink, InvalidLink
from newsroom.mail_quota import mail_quota_take

logger = logging.getLogger(__name__)


def manage_donor(*, token: str) -> Donor:
    """The donor a valid, unexpired link names; `InvalidLink` / `ExpiredLink` otherwise."""
    try:
        donor_id = manage_token_read(token)
    except ExpiredLink as error:
        raise ExpiredLink("This link has expired. Ask for a new one below.") from error
    except InvalidLink as error:
        raise InvalidLink("This link is not valid. Ask for a new one below.") from error
    donor = Donor.objects.filter(pk=donor_id).first()
    if donor is None:  # erased since the link was sent
        raise InvalidLink("This link is not valid. Ask for a new one below.")
    return donor


def manage_link_request(*, email: str) -> None:
    """Email a manage link if this address gives; do nothing visible otherwise (the caller
    answers the same either way, so nobody learns who donates). An address already sent its
    hourly share of requested mail gets nothing more."""
    donor = Donor.objects.filter(email=normalise_email(email)).first()
    if donor is None or not mail_quota_take(email=donor.email, purpose="manage_link"):
        return
    send_manage_link.delay_on_commit(donor.pk)


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
    donor = manage_donor(token=token)
    customer_id = _customer_of(donor)
    if not customer_id:
        raise DonationError("We have no recurring gift or saved card for this address.")
    portal = stripe_client.billing_portal_session_create(
        customer_id=customer_id,
        return_url=settings.SITE_URL + reverse("donations:support"),
    )
    logger.info("billing portal opened", extra={"donor": donor.pk})
    return portal.url
