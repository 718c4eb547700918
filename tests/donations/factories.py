from __future__ import annotations

from decimal import Decimal

import factory

from donations.models import Donation, Donor, RecurringDonation


class DonorFactory(factory.django.DjangoModelFactory[Donor]):
    class Meta:
        model = Donor

    email = factory.Sequence(lambda n: f"reader{n}@example.org")
    stripe_customer_id = factory.Sequence(lambda n: f"cus_test{n:06d}")


class RecurringDonationFactory(factory.django.DjangoModelFactory[RecurringDonation]):
    class Meta:
        model = RecurringDonation

    donor = factory.SubFactory(DonorFactory)
    stripe_subscription_id = factory.Sequence(lambda n: f"sub_test{n:06d}")
    frequency = "monthly"
    amount = Decimal("5.00")
    currency = "usd"
    status = RecurringDonation.Status.ACTIVE


class DonationFactory(factory.django.DjangoModelFactory[Donation]):
    class Meta:
        model = Donation

    donor = factory.SubFactory(DonorFactory)
    frequency = "once"
    amount = Decimal("25.00")
    currency = "usd"
    status = Donation.Status.PAID
    stripe_payment_intent_id = factory.Sequence(lambda n: f"pi_test{n:06d}")


def make_donor(**fields: object) -> Donor:
    donor = DonorFactory(**fields)
    assert isinstance(donor, Donor)
    return donor
