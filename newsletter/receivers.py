"""anymail's tracking webhooks (any ESP) -> the subscriber's status, through the service.

Connected in `NewsletterConfig.ready`. The receiver only translates; the rules (which status
wins, replays harmless) live in `subscriber_record_tracking_event`.
"""

from __future__ import annotations

import logging
from typing import Any

from anymail.signals import AnymailTrackingEvent, EventType, tracking
from django.dispatch import receiver

from newsletter.services.subscribers import TrackingEvent, subscriber_record_tracking_event

logger = logging.getLogger(__name__)

_EVENTS = {
    EventType.BOUNCED: TrackingEvent.BOUNCED,
    EventType.COMPLAINED: TrackingEvent.COMPLAINED,
    EventType.UNSUBSCRIBED: TrackingEvent.UNSUBSCRIBED,
}
# Some ESPs report temporary failures as "bounced"; only a hard bounce suppresses an address.
_SOFT_BOUNCE_TYPES = {"SoftBounce", "Transient", "DnsError"}


def _is_soft_bounce(event: AnymailTrackingEvent) -> bool:
    raw = event.esp_event
    return isinstance(raw, dict) and raw.get("Type") in _SOFT_BOUNCE_TYPES


@receiver(tracking, dispatch_uid="newsletter.tracking")
def handle_tracking_event(
    sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any
) -> None:
    kind = _EVENTS.get(event.event_type)
    if kind is None or not event.recipient:
        return
    if kind == TrackingEvent.BOUNCED and _is_soft_bounce(event):
        logger.info("newsletter.tracking.soft_bounce_ignored", extra={"esp": esp_name})
        return
    subscriber_record_tracking_event(email=event.recipient, event=kind)
