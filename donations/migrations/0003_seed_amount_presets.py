from decimal import Decimal

from django.db import migrations

PRESETS = {"once": (10, 25, 50), "monthly": (2, 5, 10), "annual": (50, 100, 250)}
DEFAULTS = {"once": 25, "monthly": 5, "annual": 100}


def seed(apps, schema_editor):
    AmountPreset = apps.get_model("donations", "AmountPreset")
    for frequency, amounts in PRESETS.items():
        for currency in ("usd", "eur", "gbp"):
            for position, amount in enumerate(amounts):
                AmountPreset.objects.get_or_create(
                    frequency=frequency,
                    currency=currency,
                    amount=Decimal(amount),
                    defaults={"position": position, "is_default": amount == DEFAULTS[frequency]},
                )


class Migration(migrations.Migration):
    dependencies = [("donations", "0002_donation_first_payment")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
