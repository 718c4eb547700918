"""anymail tracking webhooks: a real ESP payload (Postmark's) posted with the webhook's basic
auth changes the subscriber; soft bounces and bad credentials change nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

import pytest
from django.test import Client, override_settings

from newsletter.models import Subscriber
from tests.newsletter.factories import SubscriberFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.usefixtures("isolated_cache"),
]

URL = "/anymail/postmark/tracking/"
SECRET = "newsroom:webhook-secret-123"
POSTMARK = override_settings(
    EMAIL_BACKEND="anymail.backends.postmark.EmailBackend",
    ANYMAIL={"POSTMARK_SERVER_TOKEN": "server-token", "WEBHOOK_SECRET": SECRET},
)


def bounce(email: str, kind: str = "HardBounce") -> dict[str, Any]:
    """Postmark's bounce webhook body, as in its documentation."""
    return {
        "RecordType": "Bounce",
        "MessageStream": "broadcast",
        "ID": 4323372036854775807,
        "Type": kind,
        "TypeCode": 1 if kind == "HardBounce" else 4096,
        "Name": "Hard bounce" if kind == "HardBounce" else "Soft bounce",
        "Tag": "newsletter",
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {},
        "ServerID": 23,
        "Description": "The server was unable to deliver your message.",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": email,
        "From": "newsletter@news.example.org",
        "BouncedAt": "2026-11-27T07:03:54.9070259Z",
        "DumpAvailable": False,
        "Inactive": True,
        "CanActivate": True,
        "Subject": "This week at the Ledger",
    }


def complaint(email: str) -> dict[str, Any]:
    return {
        **bounce(email),
        "RecordType": "SpamComplaint",
        "Type": "SpamComplaint",
        "TypeCode": 512,
        "Name": "Spam complaint",
    }


def subscription_change(email: str) -> dict[str, Any]:
    return {
        "RecordType": "SubscriptionChange",
        "MessageID": "00000000-0000-0000-0000-000000000000",
        "ServerID": 23,
        "MessageStream": "broadcast",
        "ChangedAt": "2026-11-27T10:53:34.416071Z",
        "Recipient": email,
        "Origin": "Recipient",
        "SuppressSending": True,
        "SuppressionReason": "ManualSuppression",
        "Tag": "newsletter",
        "Metadata": {},
    }


def post(payload: dict[str, Any], credentials: str = SECRET) -> Any:
    auth = base64.b64encode(credentials.encode()).decode()
    return Client().post(
        URL,
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )


@POSTMARK
@pytest.mark.parametrize(
    ("payload", "status"),
    [
        (bounce, Subscriber.Status.BOUNCED),
        (complaint, Subscriber.Status.COMPLAINED),
        (subscription_change, Subscriber.Status.UNSUBSCRIBED),
    ],
)
def test_provider_events_update_the_subscriber(payload: Any, status: str) -> None:
    subscriber = SubscriberFactory.create(email="reader@example.org")
    response = post(payload("Reader@Example.org"))
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == status


@POSTMARK
def test_a_soft_bounce_leaves_the_subscriber_active() -> None:
    subscriber = SubscriberFactory.create(email="reader@example.org")
    assert post(bounce("reader@example.org", kind="SoftBounce")).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE


@POSTMARK
def test_a_later_unsubscribe_does_not_weaken_a_complaint_and_replays_are_harmless() -> None:
    subscriber = SubscriberFactory.create(email="reader@example.org")
    for payload in (complaint, complaint, subscription_change, bounce):
        assert post(payload("reader@example.org")).status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.COMPLAINED


@POSTMARK
def test_wrong_webhook_credentials_are_refused_and_change_nothing() -> None:
    subscriber = SubscriberFactory.create(email="reader@example.org")
    response = post(bounce("reader@example.org"), credentials="newsroom:wrong")
    assert response.status_code in {400, 401, 403}
    subscriber.refresh_from_db()
    assert subscriber.status == Subscriber.Status.ACTIVE


@POSTMARK
def test_an_unknown_address_is_acknowledged_and_nothing_is_created() -> None:
    assert post(bounce("stranger@example.org")).status_code == 200
    assert not Subscriber.objects.exists()


MAILGUN_KEY = "mailgun-webhook-signing-key"


def mailgun_failed(email: str, severity: str) -> dict[str, Any]:
    """Mailgun's JSON webhook for a failed delivery, as in its documentation, signed."""
    timestamp, token = "1764227034", "c1b1c2cbd8d5d3b2a8c9e0f1a2b3c4d5e6f708192a3b4c5d6e"
    signature = hmac.new(
        MAILGUN_KEY.encode(), f"{timestamp}{token}".encode(), hashlib.sha256
    ).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": {
            "id": "G9Bn5sl1TC6nu79C8C0bwg",
            "timestamp": 1764227034.529,
            "log-level": "error",
            "event": "failed",
            "severity": severity,
            "reason": "bounce" if severity == "permanent" else "generic",
            "recipient": email,
            "recipient-domain": email.split("@")[1],
            "delivery-status": {
                "code": 550 if severity == "permanent" else 452,
                "message": "5.1.1 The email account that you tried to reach does not exist",
                "attempt-no": 1,
            },
            "message": {"headers": {"message-id": "20261127070301.1.abc@mg.example.org"}},
            "tags": ["newsletter"],
            "user-variables": {},
        },
    }


@override_settings(
    EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend",
    ANYMAIL={"MAILGUN_API_KEY": "key", "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY},
)
@pytest.mark.parametrize(
    ("severity", "status"),
    [("permanent", Subscriber.Status.BOUNCED), ("temporary", Subscriber.Status.ACTIVE)],
)
def test_another_esp_by_settings_alone_mailgun_permanent_failure_bounces(
    severity: str, status: str
) -> None:
    subscriber = SubscriberFactory.create(email="reader@example.org")
    response = Client().post(
        "/anymail/mailgun/tracking/",
        json.dumps(mailgun_failed("reader@example.org", severity)),
        content_type="application/json",
    )
    assert response.status_code == 200
    subscriber.refresh_from_db()
    assert subscriber.status == status
