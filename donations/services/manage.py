"""The donor's manage link: signed, expiring, naming one donor (`donations.links`). It opens
the donor's page; from there a Billing Portal session is opened for the customer of the gift
the donor chose (each recurring checkout has its own Stripe customer) and no other."""

from __future__ import annotations

import logging

from django.conf import settings

from donations import stripe_client
from donations.links import manage_page_path, manage_token_read, manage_token_read_expired
from donations.models import Donor, RecurringDonation
from donations.selectors import normalise_email
from donations.services.emails import send_manage_link
from donations.services.errors import DonationError
from newsroom.errors import ExpiredLink, InvalidLink
from newsroom.mail_quota import mail_quota_take

logger = logging.getLogger(__name__)

INVALID = "This link is not valid. Ask for a new one below."


def manage_donor(*, token: str) -> Donor:
    """The donor a valid, unexpired link names; `InvalidLink` / `ExpiredLink` otherwise."""
    try:
        donor_id = manage_token_read(token)
    except ExpiredLink as error:
        raise ExpiredLink("This link has expired. We can email you a fresh one.") from error
    except InvalidLink as error:
        raise InvalidLink(INVALID) from error
    donor = Donor.objects.filter(pk=donor_id, email__isnull=False).first()
    if donor is None:  # erased since the link was sent
        raise InvalidLink(INVALID)
    return donor


def manage_link_request(*, email: str) -> None:
    """Email a manage link if this address gives; do nothing visible otherwise (the caller
    answers the same either way, so nobody learns who donates). An address already sent its
    hourly share of requested mail gets nothing more."""
    donor = Donor.objects.filter(email=normalise_email(email)).first()
    if donor is None or not donor.email:
        return
    if not mail_quota_take(email=donor.email, purpose="manage_link"):
        return
    send_manage_link.delay_on_commit(donor.pk)


def manage_link_renew(*, token: str) -> None:
    """Mail a fresh link to the donor an expired (genuine) link names: to their own address,
    never one the requester types. Capped with every mail sent on request to the address."""
    try:
        donor_id = manage_token_read_expired(token)
    except InvalidLink as error:  # ExpiredLink too: too old to renew
        raise InvalidLink(INVALID) from error
    donor = Donor.objects.filter(pk=donor_id, email__isnull=False).first()
    if donor is None or not donor.email:
        return
    if mail_quota_take(email=donor.email, purpose="manage_link"):
        send_manage_link.delay_on_commit(donor_id)
        logger.info("fresh manage link requested", extra={"donor": donor_id})


def manage_portal_open(*, donor: Donor, recurring_id: int, token: str) -> str:
    """The Billing Portal URL (on its card form) for the customer of one of the donor's
    recurring gifts. The URL is a credential: the caller redirects to it and never logs it."""
    recurring = (
        RecurringDonation.objects.filter(pk=recurring_id, donor=donor)
        .exclude(status=RecurringDonation.Status.CANCELLED)
        .first()
    )
    if recurring is None or not recurring.stripe_customer_id:
        raise DonationError("We could not find that gift among your active ones.")
    portal = stripe_client.billing_portal_session_create(
        customer_id=recurring.stripe_customer_id,
        return_url=settings.SITE_URL + manage_page_path(token),
        card_update=True,
    )
    logger.info("billing portal opened", extra={"donor": donor.pk, "recurring": recurring.pk})
    return portal.url
