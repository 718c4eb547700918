"""Every write in the donations app, one module per concern.

- `checkout`: start a Stripe Checkout Session from the reader's choice.
- `payments`: record payments from Stripe's objects (sessions, invoices, charges, disputes).
- `recurring`: recurring gifts' status from subscription events; cancel; failed renewals.
- `staff`: actions staff take in the admin (refund a payment, cancel a recurring gift).
- `manage`: the donor's signed manage link and the Billing Portal session it opens.
- `reminders`: "remind me later" and its periodic send.
- `emails`: the emails themselves (sent by tasks, at most once each).
"""
