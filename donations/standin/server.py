"""The HTTP server: Stripe's REST API under /v1/, the hosted pages, and the JSON control API
under /_standin/ that tests (or a demo operator) use to make things happen."""

from __future__ import annotations

import json
import logging
import socket
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

from donations.standin import api, dashboard, pages
from donations.standin.params import StripeError, parse_form
from donations.standin.store import RequestContext, Store, new_id

logger = logging.getLogger(__name__)

NO_KEY = (
    "You did not provide an API key. You need to provide your API key in the Authorization "
    "header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See "
    "https://stripe.com/docs/api#authentication for details, or we can help at "
    "https://support.stripe.com/."
)


class Standin(Protocol):
    """What the server asks of the stand-in it serves (`standin.StripeStandin`)."""

    store: Store
    api_key: str | None
    api_version: str
    verbose: bool

    @property
    def url(self) -> str: ...

    @property
    def webhook_url(self) -> str | None: ...

    def webhook_attempts(self) -> list[dict[str, Any]]: ...

    def control(self, method: str, route: str, args: dict[str, Any]) -> Any: ...


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True
    standin: Standin


class Handler(BaseHTTPRequestHandler):
    server: StandinServer
    server_version = "stripe-standin/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        if self.server.standin.verbose:  # method and path only: no query string, no body
            logger.info("%s %s -> %s", self.command, _redacted(urlsplit(self.path).path), args[1])

    # --- plumbing -----------------------------------------------------------------------------
    def _body(self) -> str:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length).decode() if length else ""

    def _send(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        if "Content-Length" not in headers:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, obj: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(obj, indent=2).encode()
        self._send(status, {"Content-Type": "application/json", **(headers or {})}, body)

    def do_GET(self) -> None:
        self._route()

    def do_POST(self) -> None:
        self._route()

    def do_DELETE(self) -> None:
        self._route()

    def _route(self) -> None:
        parts = urlsplit(self.path)
        path, body = parts.path, self._body()
        standin = self.server.standin
        if path.startswith("/v1/"):
            self._api(path, parts.query, body)
        elif path.startswith("/_standin/"):
            self._control(path, parts.query, body)
        elif path.startswith(("/pay/", "/portal/")):
            with standin.store.lock:
                page = self._page(path, parts.query, body)
            self._send(*page)
        elif path == "/":
            with standin.store.lock:
                page = self._dashboard(parts.query, body)
            self._send(*page)
        elif path == "/healthz":
            self._json(200, {"stripe_standin": True, "api_version": standin.api_version})
        elif path == "/favicon.ico":
            self._send(204, {}, b"")
        else:
            self._json(404, {"error": {"message": "Not found", "type": "invalid_request_error"}})

    def _page(self, path: str, query: str, body: str) -> pages.Page:
        store = self.server.standin.store
        kind, _, object_id = path.strip("/").partition("/")
        if kind == "pay":
            if self.command == "POST":
                return pages.checkout_submit(store, object_id, body)
            return pages.checkout_page(store, object_id)
        if self.command == "POST":
            return pages.portal_submit(store, object_id, body)
        return pages.portal_page(store, object_id, pages.query_notice(query))

    def _dashboard(self, query: str, body: str) -> pages.Page:
        standin = self.server.standin
        if self.command == "POST":
            return dashboard.dashboard_submit(standin.store, body)
        return dashboard.dashboard_page(
            standin.store, standin.webhook_url, standin.webhook_attempts(),
            pages.query_notice(query),
        )  # fmt: skip

    # --- the REST API -------------------------------------------------------------------------
    def _api(self, path: str, query: str, body: str) -> None:
        standin = self.server.standin
        request_id = new_id("req", 14)
        key = self.headers.get("Idempotency-Key")
        headers = {"Request-Id": request_id, "Stripe-Version": standin.api_version}
        if key:
            headers["Idempotency-Key"] = key
        with standin.store.lock:
            failure = standin.store.fail_next.pop(0) if standin.store.fail_next else None
            if failure and failure.get("times", 1) > 1:
                standin.store.fail_next.insert(0, {**failure, "times": failure["times"] - 1})
        if failure and failure.get("drop"):
            with standin.store.lock:
                standin.store.requests.append({
                    "method": self.command, "path": path, "params": {}, "idempotency_key": key,
                    "stripe_version": self.headers.get("Stripe-Version"),
                    "request_id": request_id, "status": None, "dropped": True,
                })  # fmt: skip
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        status, payload, replayed = self._api_call(path, query, body, request_id, key, failure)
        if replayed:
            headers["Idempotent-Replayed"] = "true"
        self._send(status, {"Content-Type": "application/json", **headers}, payload)

    def _api_call(
        self,
        path: str,
        query: str,
        body: str,
        request_id: str,
        key: str | None,
        failure: dict[str, Any] | None,
    ) -> tuple[int, bytes, bool]:
        standin = self.server.standin
        store = standin.store
        record: dict[str, Any] = {
            "method": self.command,
            "path": path,
            "params": {},
            "idempotency_key": key,
            "stripe_version": self.headers.get("Stripe-Version"),
            "request_id": request_id,
        }
        with store.lock:
            store.requests.append(record)
            try:
                self._authenticate()
                params = parse_form(body if self.command == "POST" else query)
                record["params"] = params
                if failure:
                    raise _failure_error(failure)
                fingerprint = json.dumps([self.command, path, params], sort_keys=True)
                replay = _replay(store, key, fingerprint) if self.command == "POST" else None
                if replay is not None:
                    record["status"], record["replayed"] = replay[0], True
                    return replay[0], replay[1], True
                store.set_context(RequestContext(request_id, key))
                try:
                    obj = api.dispatch(store, self.command, path, params, standin.url)
                finally:
                    store.set_context(None)
                status, payload = 200, json.dumps(obj, indent=2).encode()
                if key and self.command == "POST":
                    store.idempotency[key] = (fingerprint, status, payload)
            except StripeError as exc:
                status, payload = exc.status, json.dumps(exc.payload(), indent=2).encode()
            record["status"] = status
            return status, payload, False

    def _authenticate(self) -> None:
        auth = self.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise StripeError(NO_KEY, status=401)
        key = auth[7:].strip()
        expected = self.server.standin.api_key
        if (expected and key != expected) or not key.startswith(("sk_test_", "rk_test_")):
            raise StripeError(f"Invalid API Key provided: {key[:8]}****{key[-4:]}", status=401)

    # --- the control API ----------------------------------------------------------------------
    def _control(self, path: str, query: str, body: str) -> None:
        standin = self.server.standin
        args: dict[str, Any] = dict(parse_qsl(query))
        if body:
            try:
                loaded = json.loads(body)
            except ValueError:
                loaded = dict(parse_qsl(body))
            if isinstance(loaded, dict):
                args.update(loaded)
        try:
            result = standin.control(self.command, path.removeprefix("/_standin/"), args)
        except StripeError as exc:
            self._json(exc.status, exc.payload())
            return
        if result is None:
            self._json(404, {"error": {"message": f"No control route {path}"}})
        else:
            self._json(200, result)


def _replay(store: Store, key: str | None, fingerprint: str) -> tuple[int, bytes] | None:
    """The stored answer for a reused idempotency key; refused if the parameters differ."""
    if not key or key not in store.idempotency:
        return None
    seen, status, payload = store.idempotency[key]
    if seen != fingerprint:
        raise StripeError(
            "Keys for idempotent requests can only be used with the same parameters they were "
            f"first used with. Try using a key other than '{key}' if you meant to execute a "
            "different request.",
            type="idempotency_error",
        )
    return status, payload


def _redacted(path: str) -> str:
    """Hosted page URLs are credentials (a portal link opens someone's subscriptions)."""
    kind, _, object_id = path.strip("/").partition("/")
    if kind in ("pay", "portal") and object_id:
        return f"/{kind}/{object_id[:8]}…"
    return path


def _failure_error(failure: dict[str, Any]) -> StripeError:
    status = int(failure.get("status", 500))
    code = failure.get("code")
    if status == 402:
        return StripeError(
            failure.get("message", "Your card was declined."),
            status=402,
            type="card_error",
            code=code or "card_declined",
            decline_code=failure.get("decline_code", "generic_decline"),
        )
    if status == 429:
        return StripeError(
            "Too many requests in a short period of time.",
            status=429,
            type="invalid_request_error",
            code=code or "rate_limit",
        )
    return StripeError(
        failure.get("message", "An unknown error occurred"),
        status=status,
        type="api_error",
        code=code,
    )
