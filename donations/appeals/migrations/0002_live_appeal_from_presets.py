"""The first live appeal, written for the demo newsroom: the banner's words, the amount
presets staff had (donations.AmountPreset, which this replaces) and the minimums and maximum
that were settings. Staff edit all of it in the admin from now on."""

from decimal import Decimal

from django.conf import settings
from django.db import migrations

LETTER = """Dear readers,

Independent reporting is slow, costly and sometimes dangerous. Our reporters sit through closed trials, travel to villages nobody else visits, and check every name before it is printed. No owner, party or advertiser pays for that work, so none of them decides what we publish.

<strong>Readers do.</strong> Most of our budget comes from people who give a little every month. Their support lets us stay with a story for as long as it takes, and keeps our journalism free for everyone, including those who cannot pay.

If what you read here matters to you, please join them."""

FALLBACK_PRESETS = {"once": (10, 25, 50), "monthly": (2, 5, 10), "annual": (50, 100, 250)}
FALLBACK_DEFAULTS = {"once": 25, "monthly": 5, "annual": 100}
CURRENCIES = ("usd", "eur", "gbp")


def create_live_appeal(apps, schema_editor):
    Appeal = apps.get_model("appeals", "Appeal")
    AmountOption = apps.get_model("appeals", "AmountOption")
    AmountLimit = apps.get_model("appeals", "AmountLimit")
    AmountPreset = apps.get_model("donations", "AmountPreset")
    if Appeal.objects.exists():
        return
    site = settings.SITE_NAME
    appeal = Appeal.objects.create(
        name="First appeal",
        is_live=True,
        heading=f"A message from {site}",
        letter=LETTER,
        sign_off=f"The editors of {site}",
        headline="Support us monthly starting from just {minimum}",
        default_frequency="monthly",
    )
    presets = list(AmountPreset.objects.all())
    if presets:
        for p in presets:
            AmountOption.objects.create(
                appeal=appeal, frequency=p.frequency, currency=p.currency, amount=p.amount,
                is_default=p.is_default, position=p.position,
            )
    else:
        for frequency, amounts in FALLBACK_PRESETS.items():
            for currency in CURRENCIES:
                for position, amount in enumerate(amounts):
                    AmountOption.objects.create(
                        appeal=appeal, frequency=frequency, currency=currency,
                        amount=Decimal(amount), position=position,
                        is_default=amount == FALLBACK_DEFAULTS[frequency],
                    )
    maximum = Decimal(settings.DONATIONS_MAXIMUM)
    for frequency, minimum in settings.DONATIONS_MINIMUMS.items():
        for currency in CURRENCIES:
            AmountLimit.objects.create(
                appeal=appeal, currency=currency, frequency=frequency,
                minimum=Decimal(minimum), maximum=maximum,
            )


def presets_back(apps, schema_editor):
    """Reversing: the live appeal's amounts become AmountPreset rows again."""
    Appeal = apps.get_model("appeals", "Appeal")
    AmountPreset = apps.get_model("donations", "AmountPreset")
    appeal = Appeal.objects.filter(is_live=True).first()
    if appeal is None:
        return
    for o in apps.get_model("appeals", "AmountOption").objects.filter(appeal=appeal):
        AmountPreset.objects.get_or_create(
            frequency=o.frequency, currency=o.currency, amount=o.amount,
            defaults={"is_default": o.is_default, "position": o.position},
        )


class Migration(migrations.Migration):
    dependencies = [
        ("appeals", "0001_appeal_experiments_counters"),
        ("donations", "0007_frequency_width_from_the_table"),
    ]
    operations = [migrations.RunPython(create_live_appeal, presets_back)]
