"""The demo operator's page at `/`: what the stand-in holds, and buttons for what Stripe
would do later on its own (a bank debit settles, a period renews, a card fails, a dispute is
opened, then won or lost).
Ids and amounts only: no email addresses on this page."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import parse_qsl, quote

from donations.standin import billing, checkout, payments
from donations.standin.objects import format_amount
from donations.standin.pages import CSS, FREQUENCY, Page
from donations.standin.params import StripeError
from donations.standin.store import Store

Obj = dict[str, Any]
ROWS = 30
WIDE = "main{max-width:60rem}td form{display:inline}td button{display:inline;width:auto;" \
       "margin:0 .2rem;padding:.3rem .6rem;font-size:.85rem}"  # fmt: skip


def _button(kind: str, object_id: str, action: str, label: str) -> str:
    return (
        "<form method=post action=/>"
        f"<input type=hidden name=kind value={kind}>"
        f'<input type=hidden name=id value="{escape(object_id)}">'
        f"<button type=submit name=action value={action}>{escape(label)}</button></form>"
    )


def _table(headers: list[str], rows: list[list[str]]) -> str:
    if not rows:
        return "<p>None yet.</p>"
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _sessions(store: Store) -> str:
    rows = []
    for cs in store.find("checkout.session")[:ROWS]:
        actions = ""
        if cs["status"] == "open":
            actions = _button("session", cs["id"], "expire", "Expire")
        if store.private[cs["id"]].get("delayed") and cs["payment_status"] == "unpaid":
            actions = _button("session", cs["id"], "settle", "Settle: paid") + _button(
                "session", cs["id"], "bounce", "Settle: failed"
            )
        amount = format_amount(cs["amount_total"], cs["currency"])
        rows.append([escape(cs["id"][:20]) + "…", cs["mode"], escape(amount),
                     f"{cs['status']} / {cs['payment_status']}", actions])  # fmt: skip
    return _table(["Session", "Mode", "Amount", "Status", ""], rows)


def _subscriptions(store: Store) -> str:
    rows = []
    for sub in store.find("subscription")[:ROWS]:
        item = sub["items"]["data"][0]
        price = item["price"]
        amount = format_amount(price["unit_amount"] * item["quantity"], price["currency"])
        actions = ""
        if sub["status"] in billing.LIVE:
            actions = (
                _button("subscription", sub["id"], "renew", "Renew (next period paid)")
                + _button("subscription", sub["id"], "fail", "Renewal fails")
                + _button("subscription", sub["id"], "cancel", "Cancel")
            )
        status = sub["status"] + (" (cancels at period end)" if sub["cancel_at_period_end"] else "")
        interval = FREQUENCY.get(price["recurring"]["interval"], "")
        rows.append([escape(sub["id"]), escape(f"{amount} {interval}"), escape(status), actions])
    return _table(["Subscription", "Amount", "Status", ""], rows)


def _charges(store: Store) -> str:
    rows = []
    for ch in store.find("charge")[:ROWS]:
        actions = ""
        if ch["status"] == "succeeded" and ch["amount_refunded"] < ch["amount"]:
            actions += _button("charge", ch["id"], "refund", "Refund")
        if ch["status"] == "succeeded" and not ch["disputed"]:
            actions += _button("charge", ch["id"], "dispute", "Dispute")
        dispute = billing.charge_open_dispute(store, ch["id"])
        if dispute is not None:
            actions += _button("dispute", dispute["id"], "win", "Dispute won")
            actions += _button("dispute", dispute["id"], "lose", "Dispute lost")
        refunded = format_amount(ch["amount_refunded"], ch["currency"])
        state = ch["status"] + _dispute_state(store, ch)
        rows.append([escape(ch["id"]), escape(format_amount(ch["amount"], ch["currency"])),
                     escape(state), escape(refunded), actions])  # fmt: skip
    return _table(["Charge", "Amount", "Status", "Refunded", ""], rows)


def _dispute_state(store: Store, ch: Obj) -> str:
    """ " (disputed)" while the bank decides, then " (dispute won)" or " (dispute lost)"."""
    disputes = store.find("dispute", charge=ch["id"]) if ch["disputed"] else []
    if not disputes:
        return ""
    status = disputes[0]["status"]
    return f" (dispute {status})" if status in billing.DISPUTE_CLOSED else " (disputed)"


def _events(store: Store, attempts: list[Obj]) -> str:
    last: dict[str, Obj] = {attempt["event_id"]: attempt for attempt in attempts}
    rows = []
    for event in reversed(store.events[-ROWS:]):
        attempt = last.get(event["id"])
        delivery = "kept (no webhook URL)"
        if attempt:
            outcome = attempt["status"] or "no connection"
            delivery = f"attempt {attempt['attempt']}: {outcome}"
        rows.append([escape(event["type"]), escape(event["id"]), escape(delivery)])
    return _table(["Event", "Id", "Webhook"], rows)


def dashboard_page(store: Store, webhook_url: str | None, attempts: list[Obj], notice: str) -> Page:
    target = escape(webhook_url) if webhook_url else "nowhere (events are only kept)"
    notice_html = f"<p role=status>{escape(notice)}</p>" if notice else ""
    body = (
        f"<h1>Stripe stand-in</h1><p>Events are POSTed to {target}.</p>{notice_html}"
        f"<h2>Checkout sessions</h2>{_sessions(store)}<h2>Subscriptions</h2>"
        f"{_subscriptions(store)}<h2>Charges</h2>{_charges(store)}"
        f"<h2>Latest events</h2>{_events(store, attempts)}"
    )
    page = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Stripe stand-in (demo)"
        f"</title><style>{CSS}{WIDE}</style></head><body><main>"
        "<p class=demo role=note>Demo payment — no money moves</p>"
        f"{body}</main></body></html>"
    )
    headers = {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
    return 200, headers, page.encode()


ACTIONS = {
    ("session", "expire"): lambda s, i: checkout.session_expire(s, i),
    ("session", "settle"): lambda s, i: payments.session_settle(s, i, succeeded=True),
    ("session", "bounce"): lambda s, i: payments.session_settle(s, i, succeeded=False),
    ("subscription", "renew"): lambda s, i: billing.subscription_renew(s, i, succeeded=True),
    ("subscription", "fail"): lambda s, i: billing.subscription_renew(s, i, succeeded=False),
    ("subscription", "cancel"): lambda s, i: billing.subscription_cancel(s, i, {}),
    ("charge", "refund"): lambda s, i: billing.refund_create(s, {"charge": i}),
    ("charge", "dispute"): lambda s, i: billing.charge_dispute(s, i),
    ("dispute", "win"): lambda s, i: billing.dispute_close(s, i, status="won"),
    ("dispute", "lose"): lambda s, i: billing.dispute_close(s, i, status="lost"),
}


def dashboard_submit(store: Store, form_body: str) -> Page:
    form = dict(parse_qsl(form_body))
    action = ACTIONS.get((form.get("kind", ""), form.get("action", "")))
    if action is None:
        notice = "Unknown action."
    else:
        try:
            action(store, form.get("id", ""))
            notice = f"Done: {form['action']} {form.get('id', '')}."
        except StripeError as exc:
            notice = f"Refused: {exc}"
    return 303, {"Location": f"/?notice={quote(notice)}", "Content-Length": "0"}, b""
