"""One received message -> what to apply: shared by the SMTP listener and the IMAP reader."""

from __future__ import annotations

import logging
from typing import Any

from newsletter.bounces.identify import identify
from newsletter.bounces.reports import parse

logger = logging.getLogger(__name__)


def report_payload(*, recipients: list[str], data: bytes, via: str) -> dict[str, Any] | None:
    """The task payload for a report we can act on (ids and a scrubbed status line), or None.

    `recipients`: where the message was addressed (the SMTP envelope, or the delivery headers
    of a mailbox copy); only bounce addresses we made are read from them. Logs one line with
    what was found, never an address or token.
    """
    report = parse(data)
    target = identify(recipients=recipients, evidence=report.evidence)
    logger.info(
        "newsletter.bounce.received",
        extra={
            "via": via,
            "form": report.form,
            "kind": str(report.kind),
            "status": report.status,
            "matched_by": target.via if target else None,
            "delivery_id": target.delivery_id if target else None,
            "subscriber_id": target.subscriber_id if target else None,
            "size": len(data),
        },
    )
    if not report.actionable or target is None:
        return None
    return {
        "kind": str(report.kind),
        "detail": report.detail,
        "delivery_id": target.delivery_id,
        "subscriber_id": target.subscriber_id,
        "issue_id": target.issue_id,
    }
