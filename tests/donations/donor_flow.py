"""Drive a donor's gifts through our checkout, the Stripe stand-in and our webhook, then open
their page through the emailed manage link, as a donor would."""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from typing import Any

import time_machine
from django.core import mail
from django.test import Client

from donations.standin import StripeStandin
from tests.donations.flow import checkout, deliver_all

GIFT = re.compile(
    r'<li class="gift gift-(?P<state>\w+)" data-frequency="(?P<frequency>\w+)">\s*'
    r'<p class="gift-line">\s*<strong class="gift-amount">(?P<amount>[\d.]+) (?P<currency>[A-Z]+)'
)


class Donor:
    """One donor giving through the real flow; `day` moves the clock so gifts have an order."""

    def __init__(self, client: Client, standin: StripeStandin, capture: Any, email: str) -> None:
        self.client, self.standin, self.capture, self.email = client, standin, capture, email
        self.seen = 0

    def deliver(self) -> None:
        self.seen = deliver_all(self.client, self.standin, self.capture, skip=self.seen)

    def give(self, when: str, *, frequency: str, amount: str, currency: str) -> str:
        with time_machine.travel(when, tick=False):
            session_id = checkout(
                self.client, frequency=frequency, amount=amount, currency=currency
            )
            self.standin.pay(session_id, email=self.email)
            self.deliver()
        return session_id

    def link(self) -> str:
        """Ask for the manage link by address and read it from the email (a path)."""
        mail.outbox.clear()
        with self.capture(execute=True):
            self.client.post("/support/manage/", {"email": self.email})
        body = str(mail.outbox[-1].body)
        line = next(line for line in body.splitlines() if "/support/manage/" in line)
        return line.strip().removeprefix("http://testserver")

    def at(self, when: str) -> AbstractContextManager[Any]:
        return time_machine.travel(when, tick=False)


def gifts_on(page: str) -> list[tuple[str, str, str, str]]:
    """(amount, currency, frequency, state) of every gift on the page, in page order."""
    return [(m["amount"], m["currency"], m["frequency"], m["state"]) for m in GIFT.finditer(page)]


def confirm_fields(page: str) -> dict[str, str]:
    """The hidden fields of the confirmation form on a confirm page."""
    form = page[page.index('<form method="post" class="confirm">') :]
    form = form[: form.index("</form>")]
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', form))
