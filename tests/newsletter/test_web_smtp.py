"""From a message a real SMTP server received to its web version: the link works, and the
page carries none of the recipient's personal links or address."""

from __future__ import annotations

import re

import pytest
from django.test import Client, override_settings
from pytest_django import DjangoCaptureOnCommitCallbacks as CaptureOnCommit

from newsletter.services.issues import issue_send_now
from newsletter.tokens import unsubscribe_link
from tests.newsletter.factories import IssueFactory, IssueItemFactory, SubscriberFactory
from tests.smtp_server import SMTPServer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("isolated_cache")]


@override_settings(SITE_URL="http://testserver")
def test_view_in_browser_link_of_a_received_issue_opens_an_impersonal_web_version(
    smtp_server: SMTPServer, django_capture_on_commit_callbacks: CaptureOnCommit, client: Client
) -> None:
    reader = SubscriberFactory.create(email="known.reader@example.org")
    issue = IssueFactory.create(subject="Rivers and courts", preheader="This week in brief")
    IssueItemFactory.create(issue=issue, title="The dam trial opens")
    with django_capture_on_commit_callbacks(execute=True):
        issue_send_now(issue=issue)

    [received] = smtp_server.messages
    body = received.message.get_body(preferencelist=("html",))
    assert body is not None
    html = body.get_content()
    token = unsubscribe_link.make(reader.pk)
    assert token in html  # the message itself is personal
    link = re.search(r'href="http://testserver([^"]+)"[^>]*>View in your browser', html)
    assert link is not None
    assert link.start() < html.index("The dam trial opens")  # at the top, before the stories
    text_part = received.message.get_body(preferencelist=("plain",))
    assert text_part is not None
    text = text_part.get_content()
    assert f"View in your browser: http://testserver{link.group(1)}" in text
    assert text.index("View in your browser") < text.index("The dam trial opens")

    response = client.get(link.group(1))
    assert response.status_code == 200
    page = response.content.decode()
    assert "<title>Rivers and courts" in page
    assert "The dam trial opens" in page
    for personal in (token, "known.reader", "/newsletter/unsubscribe/"):
        assert personal not in page
    assert "/newsletter/archive/" in page
    archive = client.get("/newsletter/archive/").content.decode()
    assert "Rivers and courts" in archive
    assert "This week in brief" in archive
