"""Sending through providers in batches (django-anymail's real backends, against local
stand-ins of the providers' HTTP APIs): many recipients per call, each recipient's own links
and headers as merge data, never a shared `To`; a failed call is sent again whole, later, and
no recipient ever gets two messages."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import unquote

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone

from donations.models import Donor, RecurringDonation
from newsletter.models import Delivery, Issue, Subscriber
from newsletter.sending import TransientSendError, run_lane
from newsletter.services.sends import issue_start_sending
from newsletter.tokens import unsubscribe_url
from tests.http_stub import JSONHandler, serving
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory
from tests.provider_standin import ProviderStandin, SentMessage

pytestmark = pytest.mark.django_db
SITE = "http://testserver"


@pytest.fixture
def mailgun() -> Iterator[ProviderStandin]:
    standin = ProviderStandin("mailgun").start()
    with override_settings(
        EMAIL_BACKEND="anymail.backends.mailgun.EmailBackend",
        ANYMAIL={
            "MAILGUN_API_KEY": "key-standin",
            "MAILGUN_SENDER_DOMAIN": "news.example.org",
            "MAILGUN_API_URL": standin.api_url,
        },
        DEFAULT_FROM_EMAIL="news@news.example.org",
        NEWSLETTER_PROVIDER_BATCH_SIZES={"mailgun": 10},
    ):
        yield standin
    standin.stop()


def sending_issue() -> Issue:
    issue = IssueFactory.create(status=Issue.Status.SCHEDULED)
    IssueItemFactory.create(issue=issue)
    assert issue_start_sending(issue_id=issue.pk)  # its lane tasks are not run: we play them
    return issue


def assert_only_their_own(message: SentMessage, reader: Subscriber, others: list[str]) -> None:
    link = unsubscribe_url(reader.pk)
    token = link.rstrip("/").rsplit("/", 1)[-1]
    assert message.to == [reader.email]
    assert f'href="{link}"' in message.html
    assert link in message.text
    unsubscribe = message.headers["List-Unsubscribe"]
    assert unsubscribe.startswith(f"<{link}>, <mailto:news@news.example.org?subject=")
    assert unquote(unsubscribe.split("subject=", 1)[1]).rstrip(">") == f"unsubscribe {token}"
    assert message.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.headers["List-Id"].endswith("<newsletter.testserver>")
    assert "%recipient." not in message.html + message.text + unsubscribe
    body = message.html + message.text + str(message.headers)
    assert not [other for other in others if other in body]


@override_settings(SITE_URL=SITE)
def test_a_batch_call_carries_each_recipients_own_links_and_headers_never_a_shared_to(
    mailgun: ProviderStandin,
) -> None:
    readers = SubscriberFactory.create_batch(24)
    donor = SubscriberFactory.create(email="donor@example.org")
    RecurringDonation.objects.create(
        donor=Donor.objects.create(email=donor.email),
        stripe_subscription_id="sub_1",
        frequency="monthly",
        amount=Decimal("5.00"),
        currency="usd",
        status=RecurringDonation.Status.ACTIVE,
    )
    issue = sending_issue()

    result = run_lane(issue_id=issue.pk)

    assert result.sent == 25
    # 24 readers with the donation ask in calls of at most 10, the donor in a call of its own.
    assert mailgun.stats() == {"calls": 4, "recipients": 25}
    by_call = Counter(message.call for message in mailgun.messages())
    assert sorted(by_call.values()) == [1, 4, 10, 10]
    everyone = [*readers, donor]
    links = {reader.pk: unsubscribe_url(reader.pk) for reader in everyone}
    received = {message.to[0]: message for message in mailgun.messages()}
    assert len(received) == 25
    assert all(len(m.to) == 1 for m in mailgun.messages())
    for reader in everyone:
        others = [link for pk, link in links.items() if pk != reader.pk]
        others += [r.email for r in everyone if r.pk != reader.pk]
        assert_only_their_own(received[reader.email], reader, others)
    assert "A message from" not in received[donor.email].html
    assert all("A message from" in received[r.email].html for r in readers)
    ids = {m.headers["Message-Id"] for m in received.values()}
    assert len(ids) == 25
    assert all(i.startswith(f"<issue{issue.pk}.") for i in ids)
    assert Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT).count() == 25


@override_settings(SITE_URL=SITE, NEWSLETTER_PROVIDER_CONCURRENCY=1)
def test_a_failed_batch_call_is_sent_again_whole_and_no_recipient_gets_two_messages(
    mailgun: ProviderStandin,
) -> None:
    readers = SubscriberFactory.create_batch(25)
    issue = sending_issue()
    mailgun.fail_next(500)  # the first call fails: the provider is having a bad minute

    with pytest.raises(TransientSendError):
        run_lane(issue_id=issue.pk)

    attempts = dict(Delivery.objects.filter(issue=issue).values_list("id", "attempts"))
    assert sorted(attempts.values()) == [0] * 15 + [1] * 10  # that call's ten, charged once
    assert mailgun.messages() == []

    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        result = run_lane(issue_id=issue.pk)  # the task's retry, and the retried call is due

    assert result.sent == 25
    received = Counter(address for m in mailgun.messages() for address in m.to)
    assert received == Counter(reader.email for reader in readers)  # each exactly once
    calls: dict[int, set[str]] = {}
    for message in mailgun.messages():
        calls.setdefault(message.call, set()).update(message.to)
    assert sorted(len(members) for members in calls.values()) == [5, 10, 10]
    for reader in readers:
        (message,) = [m for m in mailgun.messages() if m.to == [reader.email]]
        assert_only_their_own(message, reader, [])
    assert Delivery.objects.filter(issue=issue, status=Delivery.Status.SENT).count() == 25


class CapturingAPI(JSONHandler):
    """Records JSON bodies; answers as SendGrid (202) or Postmark's batch endpoint would."""

    def do_POST(self) -> None:
        body = self.read_json()
        self.server.bodies.append((self.path, body))
        if self.path.endswith("/email/batch"):
            answer = [
                {"To": m["To"], "MessageID": f"id-{n}", "ErrorCode": 0, "Message": "OK"}
                for n, m in enumerate(body)
            ]
            return self.answer(200, answer)
        return self.answer(202, {})


@pytest.fixture
def api() -> Iterator[Any]:
    with serving(CapturingAPI, bodies=[]) as server:
        yield server


def send_three(api: Any, esp: str, anymail: dict[str, str]) -> list[Subscriber]:
    """Three readers, one lane run through anymail's `esp` backend pointed at `api`."""
    readers = SubscriberFactory.create_batch(3)
    with override_settings(EMAIL_BACKEND=f"anymail.backends.{esp}.EmailBackend", ANYMAIL=anymail):
        assert run_lane(issue_id=sending_issue().pk).sent == 3
    return readers


# anymail 15 still ships the SendGrid backend but has dropped official support, with a warning.
@pytest.mark.filterwarnings("ignore::anymail.exceptions.AnymailNotSupportedWarning")
@override_settings(SITE_URL=SITE, DEFAULT_FROM_EMAIL="news@news.example.org")
def test_sendgrid_gets_one_personalization_per_recipient_with_their_own_link(api: Any) -> None:
    readers = send_three(api, "sendgrid", {"SENDGRID_API_KEY": "key", "SENDGRID_API_URL": api.url})

    [(path, body)] = api.bodies
    assert path == "/mail/send"
    html = next(c["value"] for c in body["content"] if c["type"] == "text/html")
    assert ":unsubscribe_url:" in html
    assert len(body["personalizations"]) == 3
    for reader, personal in zip(readers, body["personalizations"], strict=True):
        link = unsubscribe_url(reader.pk)
        assert personal["to"] == [{"email": reader.email}]
        assert personal["substitutions"] == {":unsubscribe_url:": link}
        assert personal["headers"]["List-Unsubscribe"].startswith(f"<{link}>, <mailto:")


@override_settings(SITE_URL=SITE, DEFAULT_FROM_EMAIL="news@news.example.org")
def test_postmark_gets_one_batch_of_whole_messages_each_with_its_own_body(api: Any) -> None:
    anymail = {"POSTMARK_SERVER_TOKEN": "token", "POSTMARK_API_URL": api.url}
    readers = send_three(api, "postmark", anymail)

    [(path, messages)] = api.bodies
    assert path == "/email/batch"
    assert len(messages) == 3
    for reader, message in zip(readers, messages, strict=True):
        link = unsubscribe_url(reader.pk)
        assert message["To"] == reader.email
        assert f'href="{link}"' in message["HtmlBody"]
        assert link in message["TextBody"]
        assert "{{" not in message["HtmlBody"]
        assert "TemplateModel" not in message
        headers = {h["Name"]: h["Value"] for h in message["Headers"]}
        assert headers["List-Unsubscribe"].startswith(f"<{link}>, <mailto:")
        others = [unsubscribe_url(r.pk) for r in readers if r.pk != reader.pk]
        assert not [o for o in others if re.search(re.escape(o), str(message))]


class FakeSES(JSONHandler):
    """SES v2's SendBulkEmail (`POST /v2/email/outbound-bulk-emails`, as boto3 calls it):
    records the JSON body, answers one SUCCESS per destination."""

    def do_POST(self) -> None:
        body = self.read_json()
        self.server.bodies.append((self.path, body))
        entries = body.get("BulkEmailEntries", [])
        results = [{"Status": "SUCCESS", "MessageId": f"ses-{n}"} for n in range(len(entries))]
        self.answer(200, {"BulkEmailEntryResults": results})


@override_settings(SITE_URL=SITE, DEFAULT_FROM_EMAIL="news@news.example.org")
def test_amazon_ses_gets_bulk_calls_of_50_with_an_inline_template_and_each_ones_data() -> None:
    readers = SubscriberFactory.create_batch(60)
    issue = IssueFactory.create(status=Issue.Status.SCHEDULED, intro="Braces {{stay}} as typed")
    IssueItemFactory.create(issue=issue)
    with serving(FakeSES, bodies=[]) as server:
        client = {
            "endpoint_url": server.url.rstrip("/"),
            "region_name": "eu-west-1",
            "aws_access_key_id": "AKIDSTANDIN",
            "aws_secret_access_key": "standin-secret",
        }
        with override_settings(
            EMAIL_BACKEND="anymail.backends.amazon_ses.EmailBackend",
            ANYMAIL={"AMAZON_SES_CLIENT_PARAMS": client},
            NEWSLETTER_PROVIDER_CONCURRENCY=1,
        ):
            assert issue_start_sending(issue_id=issue.pk)
            assert run_lane(issue_id=issue.pk).sent == 60

    assert [len(body["BulkEmailEntries"]) for _, body in server.bodies] == [50, 10]
    entries = {}
    for path, body in server.bodies:
        assert path == "/v2/email/outbound-bulk-emails"
        content = body["DefaultContent"]["Template"]["TemplateContent"]
        assert "{{unsubscribe_url}}" in content["Html"]
        assert "{{unsubscribe_url}}" in content["Text"]
        assert "Braces \\{{stay}} as typed" in content["Html"]  # literal for Handlebars
        for entry in body["BulkEmailEntries"]:
            (address,) = entry["Destination"]["ToAddresses"]
            entries[address] = entry
    for reader in readers:
        link = unsubscribe_url(reader.pk)
        entry = entries[reader.email]
        data = json.loads(
            entry["ReplacementEmailContent"]["ReplacementTemplate"]["ReplacementTemplateData"]
        )
        assert data == {"unsubscribe_url": link}
        headers = {h["Name"]: h["Value"] for h in entry["ReplacementHeaders"]}
        assert headers["List-Unsubscribe"].startswith(f"<{link}>, <mailto:")
        assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
