"""Staff's bulk and per-person work on subscribers: CSV import and export, data export, erase.

Imported people are active at once: their consent was given elsewhere, and the import records
where (`consent_source`) and when. No address appears in a log line.
"""

from __future__ import annotations

import csv
import io
import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from newsletter.models import Delivery, Subscriber
from newsletter.services.subscribers import SubscriberError, email_normalise
from newsroom.erased import erased_address_remember, erased_addresses_among

logger = logging.getLogger(__name__)

IMPORT_MAX_BYTES = 20 * 1024 * 1024
IMPORT_BATCH = 1000
EXPORT_FIELDS = [
    "email", "status", "source", "consent_at", "consent_policy_version", "consent_source",
    "confirmed_at", "unsubscribed_at", "created_at",
]  # fmt: skip
IMPORTED_SOURCE_PREFIX = "import: "


@dataclass(frozen=True)
class ImportResult:
    created: int
    existing: int
    invalid: int
    erased: int = 0  # erased at their owner's request: never re-added by an import


def _addresses_from_csv(data: bytes) -> Iterator[str]:
    """The addresses of a CSV file: the `email` column if the header has one, else column 1."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise SubscriberError("The file is not UTF-8 text. Export it as CSV (UTF-8).") from error
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None:
        return
    lowered = [cell.strip().lower() for cell in header]
    column = lowered.index("email") if "email" in lowered else 0
    if "email" not in lowered and "@" in (header[0] if header else ""):
        yield header[0]  # no header row: the first row is an address
    for row in rows:
        if len(row) > column:
            yield row[column]
        elif row:
            yield ""


def subscribers_import_csv(
    *, file: BinaryIO, consent_source: str, now: datetime | None = None
) -> ImportResult:
    """Create active subscribers from a CSV file; skip invalid, duplicate and known addresses."""
    consent_source = consent_source.strip()
    if not consent_source:
        raise SubscriberError("Say where these people gave their consent.")
    data = file.read(IMPORT_MAX_BYTES + 1)
    if len(data) > IMPORT_MAX_BYTES:
        raise SubscriberError("The file is too large (20 MB at most).")
    now = now or timezone.now()
    valid: dict[str, None] = {}
    invalid = 0
    for raw in _addresses_from_csv(data):
        try:
            valid[email_normalise(raw)] = None
        except ValidationError:
            invalid += 1
    label = (IMPORTED_SOURCE_PREFIX + consent_source)[:200]
    created = 0
    erased = erased_addresses_among(valid)
    emails = [email for email in valid if email not in erased]
    with transaction.atomic():
        for start in range(0, len(emails), IMPORT_BATCH):
            chunk = emails[start : start + IMPORT_BATCH]
            known = set(Subscriber.objects.filter(email__in=chunk).values_list("email", flat=True))
            new_rows = [_imported(email, label, now) for email in chunk if email not in known]
            created += len(Subscriber.objects.bulk_create(new_rows, ignore_conflicts=True))
    result = ImportResult(
        created=created, existing=len(emails) - created, invalid=invalid, erased=len(erased)
    )
    logger.info(
        "newsletter.subscribers.imported",
        extra={
            "imported": result.created,
            "skipped_existing": result.existing,
            "skipped_invalid": result.invalid,
            "skipped_erased": result.erased,
            "label": label,
        },
    )
    return result


def _imported(email: str, label: str, now: datetime) -> Subscriber:
    return Subscriber(
        email=email,
        status=Subscriber.Status.ACTIVE,
        source=label,
        consent_at=now,
        consent_policy_version=settings.NEWSLETTER_PRIVACY_POLICY_VERSION,
        consent_source=label,
        confirmed_at=now,
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


def subscribers_export_csv(*, subscribers: Iterable[Subscriber]) -> Iterator[str]:
    """CSV lines (header first) for a streaming download; reads rows in chunks."""
    writer = csv.writer(_Echo())
    yield writer.writerow(EXPORT_FIELDS)
    for subscriber in subscribers:
        yield writer.writerow([_csv_cell(getattr(subscriber, name)) for name in EXPORT_FIELDS])


def _csv_cell(value: Any) -> str:
    if value is None:
        return ""
    text = value.isoformat() if isinstance(value, datetime) else str(value)
    # A cell starting with =, +, - or @ is a formula to spreadsheet programs: defuse it.
    return "'" + text if text[:1] in {"=", "+", "-", "@"} else text


def subscriber_data_export(*, subscriber_id: int) -> dict[str, Any]:
    """Everything we hold about one subscriber, for their access request (JSON-ready)."""
    subscriber = Subscriber.objects.filter(pk=subscriber_id).first()
    if subscriber is None:
        raise SubscriberError("No such subscriber.")
    fields = [field.name for field in Subscriber._meta.concrete_fields]
    deliveries = (
        Delivery.objects.filter(subscriber_id=subscriber_id)
        .select_related("issue")
        .order_by("created_at")
    )
    return {
        "subscriber": {name: _json_value(getattr(subscriber, name)) for name in fields},
        "deliveries": [
            {
                "issue": delivery.issue.subject,
                "issue_web_slug": delivery.issue.web_slug,
                "status": delivery.status,
                "attempts": delivery.attempts,
                "created_at": _json_value(delivery.created_at),
                "sent_at": _json_value(delivery.sent_at),
                "error": delivery.error,
            }
            for delivery in deliveries
        ],
        "history": [
            {
                "when": _json_value(event.created_at),
                "event": event.kind,
                "source": event.source,
                "issue": event.issue.subject if event.issue else None,
                "took_them_off_the_list": event.suppressed,
                "detail": event.detail,
            }
            for event in subscriber.events.select_related("issue").order_by("created_at", "id")
        ],
        "exported_at": timezone.now().isoformat(),
    }


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


@transaction.atomic
def subscriber_erase(*, subscriber_id: int) -> None:
    """Delete a subscriber and their delivery history for good (a right-to-erasure request);
    the address is remembered only as a keyed hash, so no import brings it back."""
    email = Subscriber.objects.filter(pk=subscriber_id).values_list("email", flat=True).first()
    if email is None:
        raise SubscriberError("No such subscriber.")
    deleted_deliveries, _ = Delivery.objects.filter(subscriber_id=subscriber_id).delete()
    Subscriber.objects.filter(pk=subscriber_id).delete()
    erased_address_remember(email)
    logger.info(
        "newsletter.subscriber.erased",
        extra={"subscriber_id": subscriber_id, "deliveries": deleted_deliveries},
    )
