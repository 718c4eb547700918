"""Money moving: a reader pays a Checkout Session, a bank debit settles, an invoice is charged.

Each step changes the objects first and then emits the events Stripe sends for it, in the
order Stripe creates them: the objects' own events (customer, payment, subscription, invoice)
before `checkout.session.completed`, which is why a webhook handler must accept `invoice.paid`
for a subscription it has not seen yet.
"""

from __future__ import annotations

from typing import Any, Literal

from donations.standin import objects
from donations.standin.params import StripeError
from donations.standin.store import Store

Obj = dict[str, Any]
Outcome = Literal["paid", "pending", "failed"]

DECLINE = {
    "code": "card_declined",
    "decline_code": "insufficient_funds",
    "message": "Your card has insufficient funds.",
    "type": "card_error",
}


def _apply_outcome(store: Store, pi: Obj, ch: Obj, outcome: Outcome, now: int) -> None:
    """Move a payment intent and its charge to the outcome, emitting what Stripe emits."""
    if outcome == "pending":
        pi["status"], ch["status"], ch["paid"] = "processing", "pending", False
        store.emit("payment_intent.processing", pi)
        store.emit("charge.pending", ch)
    elif outcome == "paid":
        pi.update(status="succeeded", amount_received=pi["amount"], last_payment_error=None)
        ch.update(status="succeeded", paid=True, captured=True)
        ch["outcome"]["network_status"] = "approved_by_network"
        store.emit("charge.succeeded", ch)
        store.emit("payment_intent.succeeded", pi)
    else:
        pi.update(status="requires_payment_method", last_payment_error=dict(DECLINE))
        ch.update(
            status="failed",
            paid=False,
            captured=False,
            failure_code=DECLINE["code"],
            failure_message=DECLINE["message"],
        )
        ch["outcome"].update(
            network_status="declined_by_network",
            type="issuer_declined",
            reason=DECLINE["decline_code"],
        )
        store.emit("charge.failed", ch)
        store.emit("payment_intent.payment_failed", pi)


def invoice_charge(
    store: Store, *, sub: Obj, inv: Obj, email: str | None, delayed: bool, outcome: Outcome
) -> Obj:
    """Create the payment for an open invoice and move it to `outcome`."""
    now = store.now()
    pm = store.add(
        objects.payment_method(customer_id=sub["customer"], email=email, delayed=delayed, now=now)
    )
    pi = store.add(
        objects.payment_intent(
            amount=inv["amount_due"],
            currency=inv["currency"],
            customer_id=sub["customer"],
            pm=pm,
            metadata={},
            now=now,
        )
    )
    ch = store.add(objects.charge(pi=pi, pm=pm, email=email, now=now))
    pi["latest_charge"] = ch["id"]
    payment = store.add(objects.invoice_payment(inv=inv, pi=pi, now=now))
    store.private[inv["id"]] = {"payment_intent": pi["id"], "invoice_payment": payment["id"]}
    _apply_outcome(store, pi, ch, outcome, now)
    invoice_settle(store, inv=inv, outcome=outcome)
    return inv


def invoice_settle(store: Store, *, inv: Obj, outcome: Outcome) -> None:
    """Record an invoice payment's outcome on the invoice, emitting the invoice events."""
    now = store.now()
    payment = store.objects[store.private[inv["id"]]["invoice_payment"]]
    inv.update(attempted=True, attempt_count=inv["attempt_count"] + (outcome != "pending"))
    if outcome == "paid":
        inv.update(status="paid", amount_paid=inv["amount_due"], amount_remaining=0)
        inv["status_transitions"]["paid_at"] = now
        payment.update(status="paid", amount_paid=inv["amount_due"])
        payment["status_transitions"]["paid_at"] = now
        store.emit("invoice.paid", inv)
        store.emit("invoice.payment_succeeded", inv)
    elif outcome == "failed":
        payment["status"] = "failed"
        inv["next_payment_attempt"] = now + 3 * 86_400
        store.emit("invoice.payment_failed", inv)


def _customer_for(store: Store, session: Obj, email: str | None, now: int) -> str | None:
    if session["customer"]:
        return str(session["customer"])
    needed = session["mode"] == "subscription" or session["customer_creation"] == "always"
    if not needed:  # payment mode: Stripe keeps a guest customer, `customer` stays null
        return None
    cus = store.add(objects.customer(email=email, name=None, metadata={}, now=now))
    store.emit("customer.created", cus)
    return str(cus["id"])


def session_pay(store: Store, session_id: str, *, email: str | None, delayed: bool) -> Obj:
    """The reader pressed Pay (or the bank-debit button) on the hosted page."""
    session = store.get(session_id, "checkout.session")
    if session["status"] != "open":
        raise StripeError(
            f"This Checkout Session is {session['status']}, not open.",
            code="checkout_session_not_open",
        )
    if session["customer"]:
        email = email or store.objects[session["customer"]].get("email")
    email = email or session["customer_email"]
    if not email:
        raise StripeError("An email address is required.", param="email")
    now = store.now()
    extra = store.private[session_id]
    customer_id = _customer_for(store, session, email, now)
    outcome: Outcome = "pending" if delayed else "paid"
    if session["mode"] == "payment":
        pm = store.add(
            objects.payment_method(customer_id=customer_id, email=email, delayed=delayed, now=now)
        )
        pi = store.add(
            objects.payment_intent(
                amount=session["amount_total"],
                currency=session["currency"],
                customer_id=customer_id,
                pm=pm,
                metadata=extra["payment_intent_metadata"],
                now=now,
            )
        )
        pi["receipt_email"] = extra["receipt_email"]
        ch = store.add(objects.charge(pi=pi, pm=pm, email=email, now=now))
        pi["latest_charge"] = ch["id"]
        _apply_outcome(store, pi, ch, outcome, now)
        session["payment_intent"] = pi["id"]
    elif customer_id is None:  # _customer_for makes one for every subscription
        raise StripeError("A subscription needs a customer.", status=500, type="api_error")
    else:
        sub = _subscription_start(store, session_id, customer_id, email, delayed)
        session.update(subscription=sub["id"], invoice=sub["latest_invoice"])
    session.update(
        status="complete",
        payment_status="unpaid" if delayed else "paid",
        customer=customer_id,
        url=None,  # Stripe keeps `url` only while the session is open
        customer_details={
            "address": {
                "city": None,
                "country": None,
                "line1": None,
                "line2": None,
                "postal_code": None,
                "state": None,
            },
            "business_name": None,
            "email": email,
            "individual_name": None,
            "name": None,
            "phone": None,
            "tax_exempt": "none",
            "tax_ids": [],
        },
    )
    extra["delayed"] = delayed
    store.emit("checkout.session.completed", session)
    return session


def _subscription_start(
    store: Store, session_id: str, customer_id: str, email: str, delayed: bool
) -> Obj:
    extra = store.private[session_id]
    now = store.now()
    items = [(store.objects[price_id], quantity) for price_id, quantity in extra["items"]]
    sub = store.add(
        objects.subscription(
            customer_id=customer_id,
            items=items,
            metadata=dict(extra["subscription_metadata"]),
            description=extra["subscription_description"],
            pm_id=None,  # set once the first invoice is paid
            now=now,
        )
    )
    inv = store.add(
        objects.invoice(sub=sub, billing_reason="subscription_create", email=email, now=now)
    )
    sub["latest_invoice"] = inv["id"]
    store.private[sub["id"]] = {"email": email}
    store.emit("customer.subscription.created", sub)
    invoice_charge(
        store,
        sub=sub,
        inv=inv,
        email=email,
        delayed=delayed,
        outcome="pending" if delayed else "paid",
    )
    pi = store.objects[store.private[inv["id"]]["payment_intent"]]
    sub["default_payment_method"] = pi["payment_method"]
    return sub


def session_settle(store: Store, session_id: str, *, succeeded: bool) -> Obj:
    """A bank debit paid on the page settles (or bounces) days later."""
    session = store.get(session_id, "checkout.session")
    pending = store.private[session_id].get("delayed") and session["payment_status"] == "unpaid"
    if session["status"] != "complete" or not pending:
        raise StripeError("This Checkout Session has no payment waiting to settle.")
    outcome: Outcome = "paid" if succeeded else "failed"
    now = store.now()
    if session["mode"] == "payment":
        pi = store.objects[session["payment_intent"]]
        _apply_outcome(store, pi, store.objects[pi["latest_charge"]], outcome, now)
    else:
        inv = store.objects[session["invoice"]]
        pi = store.objects[store.private[inv["id"]]["payment_intent"]]
        _apply_outcome(store, pi, store.objects[pi["latest_charge"]], outcome, now)
        invoice_settle(store, inv=inv, outcome=outcome)
        if not succeeded:
            sub = store.objects[session["subscription"]]
            sub["status"] = "past_due"
            store.emit("customer.subscription.updated", sub, {"status": "active"})
    store.private[session_id]["delayed"] = False
    if succeeded:
        session["payment_status"] = "paid"
        store.emit("checkout.session.async_payment_succeeded", session)
    else:
        store.emit("checkout.session.async_payment_failed", session)
    return session
