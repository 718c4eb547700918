"""Staff actions that call Stripe once per selected row (refund, cancel).

Stripe refusing one row (a 4xx) is said for that row and the next rows go on. Stripe not
answering (down, hanging, failing on its side) stops the action at that row: staff wait for one
call's timeouts and its retry, not for one per selected row, and are told which row may or may
not be done in Stripe (its event will say; the action is safe to repeat: refunds carry an
idempotency key, a cancelled subscription stays cancelled) and which rows were not tried.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from django.contrib import admin, messages
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from donations import stripe_client
from donations.services.errors import DonationError

logger = logging.getLogger(__name__)

Row = TypeVar("Row", bound=Model)
Action = Callable[[Any, HttpRequest, QuerySet[Any]], None]
SHOWN = 10  # row numbers named in a message; the rest are counted


def _numbers(rows: Sequence[Model]) -> str:
    named = ", ".join(f"#{row.pk}" for row in rows[:SHOWN])
    more = len(rows) - SHOWN
    return f"{named} and {more} more" if more > 0 else named


def each_through_stripe(
    model_admin: admin.ModelAdmin[Any],
    request: HttpRequest,
    rows: Sequence[Row],
    act: Callable[[Row], object],
    *,
    done: str,
    refused: str,
) -> None:
    """`act(row)` for each row in order, and the messages for staff."""
    count = 0
    for index, row in enumerate(rows):
        try:
            act(row)
            count += 1
        except DonationError as error:
            model_admin.message_user(request, f"#{row.pk}: {error.message}", messages.WARNING)
        except stripe_client.StripeUnavailable:
            untried = rows[index + 1 :]
            logger.warning(
                "staff action stopped: stripe unavailable",
                extra={"row": row.pk, "untried": len(untried)},
            )
            stopped = (
                f"Stripe is not answering, so this stopped at #{row.pk}: Stripe may or may not "
                "have done it (its event will tell; doing it again is safe)."
            )
            if untried:
                stopped += f" Not tried: {_numbers(untried)}."
            model_admin.message_user(
                request, f"{stopped} Try again in a few minutes.", messages.ERROR
            )
            break
        except stripe_client.StripeProblem:
            model_admin.message_user(request, f"#{row.pk}: {refused}", messages.ERROR)
    if count:
        model_admin.message_user(request, done.format(count=count), messages.SUCCESS)


def stripe_action(
    *, description: str, act: Callable[[Any], object], done: str, refused: str
) -> Action:
    """A model admin's action running `act` on each selected row, in id order, as above."""

    @admin.action(description=description)
    def action(model_admin: Any, request: HttpRequest, queryset: QuerySet[Any]) -> None:
        rows = list(queryset.order_by("pk"))
        each_through_stripe(model_admin, request, rows, act, done=done, refused=refused)

    return action
