"""anymail's webhooks (any ESP) -> the subscriber's status, through the services.

Tracking events (bounce, complaint, unsubscribe) and inbound mail to the `List-Unsubscribe`
mailto address. Connected in `NewsletterConfig.ready`. The receivers only translate; the rules
(which status wins, replays harmless) live in the services.
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import unquote

from anymail.signals import AnymailInboundEvent, AnymailTrackingEvent, EventType, inbound, tracking
from django.dispatch import receiver

from newsletter.models import SubscriberEvent
from newsletter.services.subscribers import (
    TrackingEvent,
    subscriber_record_tracking_event,
    subscriber_unsubscribe,
)
from newsletter.tokens import unsubscribe_link
from newsroom.errors import InvalidLink

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


# The mailto in List-Unsubscribe asks for the subject "unsubscribe <token>" (messages.py).
_MAILTO_SUBJECT = re.compile(r"\bunsubscribe\s+(\S+)", re.IGNORECASE)


@receiver(inbound, dispatch_uid="newsletter.inbound_unsubscribe")
def handle_inbound_unsubscribe(
    sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any
) -> None:
    """A mail to the List-Unsubscribe mailto address: its signed token unsubscribes at once.

    Only the token counts, never the From address (anyone can forge a sender). Other mail to
    the inbound address is left alone.
    """
    subject = str(event.message.get("Subject", "")) if event.message is not None else ""
    match = _MAILTO_SUBJECT.search(subject)
    if match is None:
        return
    try:
        subscriber_id = unsubscribe_link.read(unquote(match.group(1)))
    except InvalidLink:
        logger.info("newsletter.inbound_unsubscribe.invalid_token", extra={"esp": esp_name})
        return
    subscriber_unsubscribe(subscriber_id=subscriber_id, source=SubscriberEvent.Source.MAILTO)
