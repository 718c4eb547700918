"""The banner's amount presets now belong to the appeal (appeals 0002 copied them there)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0007_frequency_width_from_the_table"),
        ("appeals", "0002_live_appeal_from_presets"),
    ]
    operations = [migrations.DeleteModel(name="AmountPreset")]
