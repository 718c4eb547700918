"""The hosted pages a reader sees in demo mode: Checkout (/pay/<cs_id>) and the billing
portal (/portal/<bps_id>). Plain HTML and inline CSS, no JavaScript, no third-party assets."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import parse_qsl

from donations.standin import billing, payments
from donations.standin.objects import format_amount
from donations.standin.params import StripeError
from donations.standin.store import Store

Page = tuple[int, dict[str, str], bytes]
FREQUENCY = {
    None: "one-time",
    "day": "daily",
    "week": "weekly",
    "month": "monthly",
    "year": "yearly",
}
CSS = """
body{font:16px/1.5 system-ui,sans-serif;background:#f4f1ea;color:#1d1d1d;margin:0}
main{max-width:30rem;margin:3rem auto;background:#fff;padding:2rem;border-radius:8px;
box-shadow:0 1px 4px rgba(0,0,0,.15)}
.demo{background:#ffe58a;border:2px dashed #8a6d00;padding:.6rem 1rem;font-weight:700;
text-align:center;margin:0 0 1.5rem}
.amount{font-size:2rem;font-weight:700;margin:.2rem 0}
label{display:block;margin:1rem 0 .3rem;font-weight:600}
input[type=email],input[inputmode],select{width:100%;box-sizing:border-box;padding:.6rem;
font-size:1rem;border:1px solid #888;border-radius:4px}
button{display:block;width:100%;margin:.8rem 0 0;padding:.8rem;font-size:1rem;border:0;
border-radius:4px;background:#1b5e20;color:#fff;cursor:pointer}
button.secondary{background:#37474f}
.error{color:#b00020;font-weight:600}
table{width:100%;border-collapse:collapse}td,th{padding:.4rem;border-bottom:1px solid #ddd;
text-align:left}
a{color:#0d47a1}
"""


def _html(title: str, body: str, status: int = 200) -> Page:
    page = (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name=viewport content="width=device-width,initial-scale=1">'
        f"<title>{escape(title)} (demo)</title><style>{CSS}</style></head><body><main>"
        "<p class=demo role=note>Demo payment — no money moves</p>"
        f"{body}</main></body></html>"
    )
    headers = {
        "Content-Type": "text/html; charset=utf-8",
        "Cache-Control": "no-store",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
    }
    return status, headers, page.encode()


def _redirect(url: str) -> Page:
    return 303, {"Location": url, "Content-Length": "0"}, b""


def _not_found() -> Page:
    return _html("Not found", "<h1>This page does not exist or has expired.</h1>", 404)


def _session_interval(store: Store, session_id: str) -> str | None:
    for price_id, _quantity in store.private[session_id]["items"]:
        recurring = store.objects[price_id]["recurring"]
        if recurring:
            return str(recurring["interval"])
    return None


def checkout_page(store: Store, session_id: str, error: str = "", email: str = "") -> Page:
    session = store.objects.get(session_id)
    if session is None or session.get("object") != "checkout.session":
        return _not_found()
    if session["status"] != "open":
        return _html("Checkout", f"<h1>This checkout is {escape(session['status'])}.</h1>")
    interval = _session_interval(store, session_id)
    email = email or session["customer_email"] or ""
    if session["customer"]:
        email = email or store.objects[session["customer"]].get("email") or ""
    names = ", ".join(
        escape(store.objects[store.objects[price_id]["product"]]["name"])
        for price_id, _quantity in store.private[session_id]["items"]
    )
    cancel = (
        f'<p><a href="{escape(session["cancel_url"])}">Cancel</a></p>'
        if session["cancel_url"]
        else ""
    )
    body = f"""
<h1>{names}</h1>
<p class=amount>{escape(format_amount(session["amount_total"], session["currency"]))}</p>
<p>Frequency: <strong>{FREQUENCY.get(interval, interval)}</strong></p>
{f"<p class=error role=alert>{escape(error)}</p>" if error else ""}
<form method=post action="/pay/{escape(session_id)}">
<label for=email>Email</label>
<input id=email name=email type=email required autocomplete=email value="{escape(email)}">
<button type=submit name=action value=pay>Pay</button>
<button type=submit name=action value=delayed class=secondary>
Pay by bank debit (settles later)</button>
</form>
{cancel}"""
    return _html("Checkout", body)


def checkout_submit(store: Store, session_id: str, form_body: str) -> Page:
    form = dict(parse_qsl(form_body))
    session = store.objects.get(session_id)
    if session is None or session.get("object") != "checkout.session":
        return _not_found()
    email = form.get("email", "").strip()
    if "@" not in email:
        return _page_with_status(
            checkout_page(store, session_id, "Enter an email address.", email), 400
        )
    try:
        payments.session_pay(
            store, session_id, email=email, delayed=form.get("action") == "delayed"
        )
    except StripeError as exc:
        return _page_with_status(checkout_page(store, session_id, str(exc), email), 400)
    if session["success_url"]:
        return _redirect(session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id))
    return _html("Thank you", "<h1>Payment received.</h1><p>You can close this page.</p>")


def _page_with_status(page: Page, status: int) -> Page:
    return status, page[1], page[2]


def portal_page(store: Store, portal_id: str, notice: str = "") -> Page:
    portal = store.objects.get(portal_id)
    if portal is None or portal.get("object") != "billing_portal.session":
        return _not_found()
    rows = []
    for sub in store.find("subscription", customer=portal["customer"]):
        item = sub["items"]["data"][0]
        price = item["price"]
        amount = format_amount(price["unit_amount"] * item["quantity"], price["currency"])
        interval = FREQUENCY.get(price["recurring"]["interval"], "")
        status = sub["status"] + (" (ends at period end)" if sub["cancel_at_period_end"] else "")
        actions = ""
        if sub["status"] in billing.LIVE:
            actions = _change_form(portal_id, sub["id"], price)
            actions += _portal_button(portal_id, sub["id"], "cancel", "Cancel")
        if sub["status"] == "past_due":
            actions += _portal_button(portal_id, sub["id"], "recover", "Update payment method")
        rows.append(
            f"<tr><td>{escape(amount)}</td><td>{escape(interval)}</td>"
            f"<td>{escape(status)}</td><td>{actions}</td></tr>"
        )
    table = (
        "<table><thead><tr><th>Amount</th><th>Interval</th><th>Status</th><th></th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
        if rows
        else "<p>No subscriptions.</p>"
    )
    back = (
        f'<p><a href="{escape(portal["return_url"])}">Return to the site</a></p>'
        if portal["return_url"]
        else ""
    )
    notice_html = f"<p role=status>{escape(notice)}</p>" if notice else ""
    return _html("Your subscriptions", f"<h1>Your subscriptions</h1>{notice_html}{table}{back}")


def _portal_button(portal_id: str, sub_id: str, action: str, label: str) -> str:
    css_class = " class=secondary" if action == "recover" else ""
    return (
        f'<form method=post action="/portal/{escape(portal_id)}">'
        f'<input type=hidden name=subscription value="{escape(sub_id)}">'
        f"<button type=submit name=action value={action}{css_class}>{escape(label)}</button></form>"
    )


def _change_form(portal_id: str, sub_id: str, price: dict[str, Any]) -> str:
    """A new amount (in the price's currency) and interval, as the real portal offers when
    its configuration allows subscription updates."""
    now = price["recurring"]["interval"]
    options = "".join(
        f"<option value={i}{' selected' if i == now else ''}>{FREQUENCY[i]}</option>"
        for i in ("month", "year")
    )
    return (
        f'<form method=post action="/portal/{escape(portal_id)}">'
        f'<input type=hidden name=subscription value="{escape(sub_id)}">'
        f'<label for="amount-{escape(sub_id)}">New amount ({escape(price["currency"].upper())})'
        f'</label><input id="amount-{escape(sub_id)}" name=amount inputmode=decimal required>'
        f'<label for="interval-{escape(sub_id)}">Every</label>'
        f'<select id="interval-{escape(sub_id)}" name=interval>{options}</select>'
        "<button type=submit name=action value=change>Change amount</button></form>"
    )


def _minor_units(text: str) -> int | None:
    """ "12.50" -> 1250; anything else (negative, more than two decimals, not a number) None."""
    whole, _, cents = text.strip().partition(".")
    if not whole.isdigit() or len(cents) > 2 or (cents and not cents.isdigit()):
        return None
    return int(whole) * 100 + int(cents.ljust(2, "0") or 0)


def _price_change(store: Store, sub: dict[str, Any], form: dict[str, str]) -> str:
    amount = _minor_units(form.get("amount", ""))
    if not amount:
        return "Enter an amount, such as 12.50."
    try:
        billing.portal_price_change(
            store, sub["id"], unit_amount=amount, interval=form.get("interval", "")
        )
    except StripeError as exc:
        return str(exc)
    return "Your subscription is updated."


def portal_submit(store: Store, portal_id: str, form_body: str) -> Page:
    portal = store.objects.get(portal_id)
    if portal is None or portal.get("object") != "billing_portal.session":
        return _not_found()
    form = dict(parse_qsl(form_body))
    sub = store.objects.get(form.get("subscription", ""))
    # A portal session acts only on its own customer's subscriptions.
    if sub is None or sub.get("object") != "subscription" or sub["customer"] != portal["customer"]:
        return _page_with_status(portal_page(store, portal_id, "No such subscription."), 404)
    action = form.get("action")
    if action == "cancel" and sub["status"] in billing.LIVE:
        billing.subscription_cancel(store, sub["id"], {})
        notice = "Your subscription is canceled."
    elif action == "change" and sub["status"] in billing.LIVE:
        notice = _price_change(store, sub, form)
    elif action == "recover" and sub["status"] == "past_due":
        billing.subscription_recover(store, sub["id"])
        notice = "Your payment method is updated."
    else:
        notice = "Nothing to change."
    return _redirect_after_post(portal_id, notice)


def _redirect_after_post(portal_id: str, notice: str) -> Page:
    from urllib.parse import quote

    return _redirect(f"/portal/{portal_id}?notice={quote(notice)}")


def query_notice(query: str) -> str:
    values: dict[str, Any] = dict(parse_qsl(query))
    return str(values.get("notice", ""))[:200]
