"""The stand-in's memory: objects by id, the events it emitted, the API calls it received.

One lock guards everything; every operation that changes objects runs under it, so the
threaded HTTP server, the hosted pages and the Python test API see one consistent account.
"""

from __future__ import annotations

import copy
import json
import secrets
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from donations.standin.params import no_such

# The API version stripe-python 16.x pins (`stripe.api_version`); events carry it.
API_VERSION = "2026-10-28.endive"

_ALPHABET = string.ascii_letters + string.digits

# Id prefix -> the name Stripe uses in "No such <name>" errors.
KINDS = {
    "cs": "checkout.session",
    "cus": "customer",
    "sub": "subscription",
    "si": "subscription_item",
    "in": "invoice",
    "inpay": "invoice_payment",
    "pi": "payment_intent",
    "ch": "charge",
    "re": "refund",
    "dp": "dispute",
    "evt": "event",
    "bps": "billing_portal.session",
    "price": "price",
    "prod": "product",
    "pm": "payment_method",
    "il": "line_item",
}


def new_id(prefix: str, length: int = 24) -> str:
    body = "".join(secrets.choice(_ALPHABET) for _ in range(length))
    if prefix == "cs":
        return f"cs_test_{body}{''.join(secrets.choice(_ALPHABET) for _ in range(34))}"
    return f"{prefix}_{body}"


@dataclass
class RequestContext:
    """Which API call is running in this thread (events name it in `request`)."""

    request_id: str | None = None
    idempotency_key: str | None = None


@dataclass
class Store:
    objects: dict[str, dict[str, Any]] = field(default_factory=dict)
    private: dict[str, dict[str, Any]] = field(default_factory=dict)  # per object, never served
    events: list[dict[str, Any]] = field(default_factory=list)  # {"id", "type", "payload"}
    requests: list[dict[str, Any]] = field(default_factory=list)
    idempotency: dict[str, tuple[str, int, bytes]] = field(default_factory=dict)
    fail_next: list[dict[str, Any]] = field(default_factory=list)
    clock_offset: int = 0  # seconds the test clock was advanced (`advance_clock`)
    lock: threading.RLock = field(default_factory=threading.RLock)
    on_event: Callable[[str, str, bytes], None] | None = None  # id, type, payload
    _local: threading.local = field(default_factory=threading.local)

    # --- clock and context ------------------------------------------------------------------
    def now(self) -> int:
        """Stripe's clock: wall time plus what a test advanced it by (as Stripe's test clocks),
        so events and objects made after an advance carry later `created` seconds."""
        return int(time.time()) + self.clock_offset

    def advance_clock(self, seconds: int) -> int:
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        with self.lock:
            self.clock_offset += seconds
            return self.now()

    def context(self) -> RequestContext:
        ctx = getattr(self._local, "ctx", None)
        return ctx if isinstance(ctx, RequestContext) else RequestContext()

    def set_context(self, ctx: RequestContext | None) -> None:
        self._local.ctx = ctx

    # --- objects -------------------------------------------------------------------------------
    def add(self, obj: dict[str, Any]) -> dict[str, Any]:
        self.objects[obj["id"]] = obj
        return obj

    def get(self, object_id: str, kind: str, param: str = "id") -> dict[str, Any]:
        obj = self.objects.get(object_id)
        if obj is None or obj.get("object") != kind or obj.get("deleted"):
            raise no_such(kind.split(".")[-1], object_id, param)
        return obj

    def find(self, kind: str, **match: Any) -> list[dict[str, Any]]:
        """Objects of one kind whose top-level fields equal `match`, newest first."""
        found = [
            obj
            for obj in self.objects.values()
            if obj.get("object") == kind and all(obj.get(k) == v for k, v in match.items())
        ]
        return sorted(found, key=lambda obj: obj.get("created", 0), reverse=True)

    # --- events -------------------------------------------------------------------------------
    def emit(
        self,
        event_type: str,
        obj: dict[str, Any],
        previous_attributes: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Record an event with a snapshot of `obj` and hand its exact bytes to delivery."""
        ctx = self.context()
        data: dict[str, Any] = {"object": copy.deepcopy(obj)}
        if previous_attributes is not None:
            data["previous_attributes"] = copy.deepcopy(previous_attributes)
        event_id = new_id("evt")
        event: dict[str, Any] = {
            "id": event_id,
            "object": "event",
            "api_version": API_VERSION,
            "created": self.now(),
            "data": data,
            "livemode": False,
            "pending_webhooks": 1,
            "request": {"id": ctx.request_id, "idempotency_key": ctx.idempotency_key},
            "type": event_type,
        }
        payload = json.dumps(event, indent=2).encode()
        with self.lock:
            self.events.append({"id": event_id, "type": event_type, "payload": payload})
            self.objects[event_id] = event
        if self.on_event is not None:
            self.on_event(event_id, event_type, payload)
        return event

    def reset(self) -> None:
        with self.lock:
            self.objects.clear()
            self.private.clear()
            self.events.clear()
            self.requests.clear()
            self.idempotency.clear()
            self.fail_next.clear()
            self.clock_offset = 0
