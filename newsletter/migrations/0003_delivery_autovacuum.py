"""Autovacuum and autoanalyze the delivery ledger often (PostgreSQL only).

A send turns queued rows into sent ones as fast as mail goes out. With the default thresholds
(10% / 20% of the table) the planner's statistics lag far behind during a large send and it
scans past sent rows to claim queued ones; at 1% / 2% it keeps using the partial index of
queued rows, and the dead index entries are cleaned up as the send goes.
"""

from django.db import migrations

TUNE = (
    "ALTER TABLE newsletter_delivery SET (autovacuum_analyze_scale_factor = 0.01, "
    "autovacuum_vacuum_scale_factor = 0.02)"
)
RESET = (
    "ALTER TABLE newsletter_delivery RESET (autovacuum_analyze_scale_factor, "
    "autovacuum_vacuum_scale_factor)"
)


def tune(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(TUNE)


def reset(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(RESET)


class Migration(migrations.Migration):
    dependencies = [("newsletter", "0002_delivery_lease_and_send_notices")]

    operations = [migrations.RunPython(tune, reset)]
