"""Stripe's webhook signature, as the stand-in signs every event it POSTs.

`Stripe-Signature: t=<unix ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<payload>")>` is what Stripe
sends and what `stripe.Webhook.construct_event` verifies. Standard library only, like the rest
of the stand-in; the tests that post recorded events to our webhook endpoint sign with it too.
"""

from __future__ import annotations

import hashlib
import hmac
import time


def stripe_signature(payload: bytes, secret: str, timestamp: int) -> str:
    signed = f"{timestamp}.".encode() + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def stripe_signature_header(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The header value Stripe would send with `payload` (signed now unless `timestamp`)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return f"t={ts},v1={stripe_signature(payload, secret, ts)}"
