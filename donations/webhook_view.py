"""`POST /stripe/webhook/`: 400 on a bad signature, 200 once recorded (or a replay), 503 when
the database is unavailable or the event is about a payment not recorded yet, so Stripe
retries."""

from __future__ import annotations

import logging

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from donations import stripe_client
from donations.services.errors import RetryLater
from donations.webhooks import stripe_event_process

logger = logging.getLogger(__name__)


@csrf_exempt  # Stripe cannot send a CSRF token; the signature authenticates it instead
@require_POST
def stripe_webhook(request: HttpRequest) -> HttpResponse:
    try:
        event = stripe_client.webhook_event_verify(
            payload=request.body, signature=request.headers.get("Stripe-Signature")
        )
    except stripe_client.InvalidSignature as error:
        logger.warning("stripe webhook refused", extra={"reason": str(error)})
        return JsonResponse({"error": "invalid signature"}, status=400)
    try:
        processed = stripe_event_process(event=event)
    except RetryLater:
        logger.info("stripe webhook deferred", extra={"stripe_event": event["id"]})
        return JsonResponse({"error": "try again"}, status=503)
    except DatabaseError:
        logger.exception("stripe webhook failed", extra={"stripe_event": event["id"]})
        return JsonResponse({"error": "try again"}, status=503)
    return JsonResponse({"received": True, "replay": not processed})
