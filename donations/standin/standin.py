"""`StripeStandin`: start the server on a thread, and drive it from Python the way the
control API drives it over HTTP."""

from __future__ import annotations

import copy
import json
import threading
from typing import Any

from donations.standin import billing, checkout, payments
from donations.standin.params import StripeError
from donations.standin.server import Handler, StandinServer
from donations.standin.store import API_VERSION, Store
from donations.standin.webhooks import DEFAULT_RETRY_DELAYS, WebhookSender

Obj = dict[str, Any]


def _flag(value: Any) -> bool:
    return value is True or str(value).lower() in ("1", "true", "yes", "on")


class StripeStandin:
    """A local Stripe for tests and the demo. `StripeStandin().start()` listens on port 0."""

    api_version = API_VERSION

    def __init__(
        self,
        *,
        webhook_url: str | None = None,
        webhook_secret: str = "whsec_test_newsroom",  # noqa: S107 - the tests' secret
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str | None = None,
        public_url: str | None = None,
        retry_delays: tuple[float, ...] = DEFAULT_RETRY_DELAYS,
        verbose: bool = False,
        enabled_events: tuple[str, ...] = (),
    ) -> None:
        self.store = Store()
        self.api_key = api_key
        self.verbose = verbose
        self._host, self._port, self._public_url = host, port, public_url
        self.webhooks = WebhookSender(webhook_url, webhook_secret, retry_delays)
        self.webhooks.enabled_events = frozenset(enabled_events)
        self.store.on_event = self.webhooks.enqueue
        self._server: StandinServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------
    def bind(self) -> StripeStandin:
        """Open the listening socket (so `url` is known) without serving yet."""
        self._bound()
        return self

    def _bound(self) -> StandinServer:
        if self._server is None:
            self._server = StandinServer((self._host, self._port), Handler)
            self._server.standin = self
        return self._server

    def start(self) -> StripeStandin:
        """Serve on a background thread (tests)."""
        server = self._bound()
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.1},
            name="stripe-standin",
            daemon=True,
        )
        self._thread.start()
        self.webhooks.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread (the CLI) until interrupted."""
        server = self._bound()
        self.webhooks.start()
        try:
            server.serve_forever(poll_interval=0.2)
        finally:
            server.server_close()
            self.webhooks.stop()

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(timeout=5)
        self.webhooks.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("start() the stand-in first")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return self._public_url or f"http://{self._host}:{self.port}"

    @property
    def webhook_url(self) -> str | None:
        return self.webhooks.url

    @webhook_url.setter
    def webhook_url(self, url: str | None) -> None:
        self.webhooks.url = url

    @property
    def enabled_events(self) -> frozenset[str]:
        return self.webhooks.enabled_events

    @enabled_events.setter
    def enabled_events(self, types: frozenset[str] | set[str] | tuple[str, ...]) -> None:
        """The event types POSTed to the webhook URL (empty: all), as a Stripe endpoint's."""
        self.webhooks.enabled_events = frozenset(types)

    # --- what happened ------------------------------------------------------------------------
    def requests(self, path_prefix: str | None = None) -> list[Obj]:
        with self.store.lock:
            found = [r for r in self.store.requests if r["path"].startswith(path_prefix or "")]
            return copy.deepcopy(found)

    def event_payloads(self, type: str | None = None) -> list[bytes]:
        """The exact bytes the stand-in posts (or would post) for each event, oldest first."""
        with self.store.lock:
            return [e["payload"] for e in self.store.events if type in (None, e["type"])]

    def events(self, type: str | None = None) -> list[Obj]:
        return [json.loads(payload) for payload in self.event_payloads(type)]

    def webhook_attempts(self) -> list[Obj]:
        with self.webhooks._cond:
            return copy.deepcopy(self.webhooks.attempts)

    def wait_for_webhooks(self, timeout: float = 15.0) -> None:
        """Block until every emitted event has been delivered (or its retries given up)."""
        if not self.webhooks.wait_idle(timeout):
            raise TimeoutError(f"webhooks still pending after {timeout}s")

    def hold_webhooks(self) -> None:
        """Events from now on are recorded but not POSTed until `release_webhooks`."""
        self.webhooks.hold()

    def release_webhooks(self, order: str = "emitted", seed: int | None = None) -> list[str]:
        """POST the held events in `order` ("emitted", "reversed", "shuffled"): Stripe does
        not promise delivery order. Returns the event ids in the order they are sent."""
        return self.webhooks.release(order, seed)

    def redeliver(self, event_id: str) -> dict[str, str]:
        """POST an event again, as Stripe's retries and dashboard "Resend" do."""
        with self.store.lock:
            found = [e for e in self.store.events if e["id"] == event_id]
        if not found:
            raise KeyError(event_id)
        self.webhooks.enqueue(event_id, found[0]["type"], found[0]["payload"])
        return {"queued": event_id}

    def get(self, object_id: str) -> Obj:
        with self.store.lock:
            return copy.deepcopy(self.store.objects[object_id])

    # --- making things happen -----------------------------------------------------------------
    def _locked(self, fn: Any, *args: Any, **kwargs: Any) -> Obj:
        with self.store.lock:
            return copy.deepcopy(fn(self.store, *args, **kwargs))

    def pay(self, session_id: str, delayed: bool = False, email: str | None = None) -> Obj:
        return self._locked(payments.session_pay, session_id, email=email, delayed=delayed)

    def settle(self, session_id: str, succeeded: bool = True) -> Obj:
        return self._locked(payments.session_settle, session_id, succeeded=succeeded)

    def expire(self, session_id: str) -> Obj:
        """The session reached `expires_at` unpaid (Stripe expires it on its own)."""
        return self._locked(checkout.session_expire, session_id)

    def renew(self, sub_id: str) -> Obj:
        return self._locked(billing.subscription_renew, sub_id, succeeded=True)

    def fail_invoice(self, sub_id: str) -> Obj:
        return self._locked(billing.subscription_renew, sub_id, succeeded=False)

    def dispute(self, charge_id: str, reason: str = "fraudulent") -> Obj:
        return self._locked(billing.charge_dispute, charge_id, reason=reason)

    def close_dispute(self, dispute_id: str, status: str) -> Obj:
        """The bank decides: `won` or `lost` (emits `charge.dispute.closed`)."""
        return self._locked(billing.dispute_close, dispute_id, status=status)

    def fail_next(
        self, status: int = 500, code: str | None = None, *, drop: bool = False, times: int = 1
    ) -> None:
        """Make the next `times` API calls fail: an HTTP error, or a dropped connection."""
        with self.store.lock:
            self.store.fail_next.append(
                {"status": status, "code": code, "drop": drop, "times": times}
            )

    def reset(self) -> None:
        self.store.reset()
        self.webhooks.clear()

    # --- the control API (/_standin/...) ------------------------------------------------------
    def control(self, method: str, route: str, args: Obj) -> Any:
        """Answer one control call; None for an unknown route."""
        parts = route.strip("/").split("/")
        if method == "GET":
            return self._control_read(parts, args)
        if method != "POST":
            return None
        if len(parts) == 3:
            kind, object_id, action = parts
            return self._control_object(kind, object_id, action, args)
        return self._control_post(parts, args)

    def _control_read(self, parts: list[str], args: Obj) -> Any:
        if parts == ["requests"]:
            return self.requests(args.get("path_prefix"))
        if parts == ["events"]:
            return self.events(args.get("type"))
        if parts == ["webhook-attempts"]:
            return self.webhook_attempts()
        return None

    def _control_post(self, parts: list[str], args: Obj) -> Any:
        if parts == ["reset"]:
            self.reset()
            return {"reset": True}
        if parts == ["fail-next"]:
            self.fail_next(
                int(args.get("status", 500)),
                args.get("code"),
                drop=_flag(args.get("drop")),
                times=int(args.get("times", 1)),
            )
            return {"queued": True}
        if parts == ["webhooks", "hold"]:
            self.hold_webhooks()
            return {"held": True}
        if parts == ["webhooks", "release"]:
            return {"released": self.release_webhooks(str(args.get("order", "emitted")))}
        return None

    def _control_object(self, kind: str, object_id: str, action: str, args: Obj) -> Any:
        """`POST /_standin/<kind>/<id>/<action>`: make something happen to one object."""
        actions = {
            ("sessions", "pay"): lambda: self.pay(
                object_id, _flag(args.get("delayed")), args.get("email")
            ),
            ("sessions", "settle"): lambda: self.settle(
                object_id, _flag(args.get("succeeded", True))
            ),
            ("sessions", "expire"): lambda: self.expire(object_id),
            ("subscriptions", "renew"): lambda: self.renew(object_id),
            ("subscriptions", "fail"): lambda: self.fail_invoice(object_id),
            ("events", "redeliver"): lambda: self.redeliver(object_id),
            ("charges", "dispute"): lambda: self.dispute(
                object_id, args.get("reason", "fraudulent")
            ),
            ("disputes", "close"): lambda: self.close_dispute(
                object_id, str(args.get("status", ""))
            ),
        }
        act = actions.get((kind, action))
        if act is None:
            return None
        try:
            return act()
        except KeyError as exc:
            raise StripeError(f"Unknown id {exc}", status=404, code="resource_missing") from exc
