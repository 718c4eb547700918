"""One new row, or nothing when it exists: `INSERT … ON CONFLICT DO NOTHING RETURNING` in one
statement.

Stripe's webhook records rows that may be there already: the event itself (replayed), its
donor (seen before), its payment (an earlier event about it). Catching `IntegrityError` costs a
savepoint around each INSERT (two more round trips) and usually a look-up before it (one
more). Here the INSERT itself tells new from known: PostgreSQL inserts, or does nothing when
any unique column is taken, including by a concurrent transaction, whose commit it waits for
(so the caller's look-up then finds that row). SQLite's `INSERT OR IGNORE` also skips a NOT
NULL or CHECK violation: the caller's look-up then finds nothing and raises, as it must.

Like `QuerySet.bulk_create`, it sends no `pre_save` / `post_save` signals; the project has no
receivers for them.
"""

from __future__ import annotations

from django.db import router
from django.db.models import Model
from django.db.models.constants import OnConflict


def insert_if_new(instance: Model) -> bool:
    """INSERT `instance` (not saved yet); True with its primary key set, or False when a row
    already holds one of its unique values."""
    meta = instance._meta
    if not instance._state.adding or meta.auto_field is None:
        raise ValueError("insert_if_new takes a new instance of a model with an automatic key")
    fields = [
        field
        for field in meta.local_concrete_fields
        if field is not meta.auto_field and not field.generated
    ]
    returning = meta.db_returning_fields
    using = router.db_for_write(type(instance), instance=instance)
    rows = (
        type(instance)
        ._base_manager.using(using)
        ._insert(  # type: ignore[attr-defined]
            [instance],
            fields=fields,
            returning_fields=returning,
            using=using,
            on_conflict=OnConflict.IGNORE,
        )
    )
    if not rows or rows[0] is None:
        return False
    for value, field in zip(rows[0], returning, strict=True):
        setattr(instance, field.attname, value)
    instance._state.adding = False
    instance._state.db = using
    return True
