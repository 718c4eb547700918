"""Every write in the donations app, one module per concern.

- `checkout`: start a Stripe Checkout Session from the reader's choice.
- `payments`, `invoices`: record payments from Stripe's Checkout Sessions and invoices.
- `charges`: refunds, and the payment a charge is about; `disputes`: disputes, open or closed.
- `recurring`: recurring gifts' status from subscription events; cancel; failed renewals.
- `staff`: actions staff take in the admin (refund a payment, cancel a recurring gift).
- `manage`: the donor's signed manage link and the Billing Portal session it opens.
- `reminders`: "remind me later" and its periodic send.
- `emails`: the emails themselves (sent by tasks, at most once each).
"""
