"""`POST /stripe/webhook/`: 400 for a bad signature or a signed event we cannot use, 200 once
recorded (or a replay), 503 with `Retry-After` when the database or Stripe is unavailable or
the event is about something not recorded yet, so Stripe retries. Errors are answered as JSON
by `newsroom.error_responses` (the one mapping of errors to responses)."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from donations import stripe_client
from donations.webhooks import stripe_event_process
from newsroom.error_responses import json_errors
from newsroom.errors import ApplicationError, TransientError

logger = logging.getLogger(__name__)


@json_errors
@csrf_exempt  # Stripe cannot send a CSRF token; the signature authenticates it instead
@require_POST
@stripe_client.reader_waits  # Stripe waits on the answer: a fetch gets the same short budget
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = stripe_client.webhook_event_verify(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except ApplicationError as error:
        logger.warning(
            "stripe webhook refused", extra={"error": type(error).__name__, **error.extra}
        )
        raise
    try:
        processed = stripe_event_process(event=event)
    except DatabaseError as error:
        logger.exception("stripe webhook failed", extra={"stripe_event": event.id})
        raise TransientError(extra={"stripe_event": event.id}) from error
    except ApplicationError as error:
        log = logger.info if error.status >= 500 else logger.warning
        log(
            "stripe webhook not applied",
            extra={"error": type(error).__name__, "stripe_event": event.id, **error.extra},
        )
        raise
    return JsonResponse({"received": True, "replay": not processed})
