"""The site's policy header, built once per process, is the one django-csp builds; a view that
asks for its own policy, and a changed setting, still get theirs."""

from __future__ import annotations

import pytest
from csp.utils import build_policy
from django.test import Client, override_settings

pytestmark = pytest.mark.django_db


def test_pages_carry_the_policy_django_csp_builds_from_the_setting(client: Client) -> None:
    headers = [client.get(path)["Content-Security-Policy"] for path in ("/", "/privacy/", "/")]
    assert headers == [build_policy()] * 3
    assert "form-action 'self' https://checkout.stripe.com" in headers[0]


def test_a_changed_setting_shows_on_the_next_response(client: Client) -> None:
    client.get("/")
    with override_settings(CONTENT_SECURITY_POLICY={"DIRECTIVES": {"default-src": ["'none'"]}}):
        assert client.get("/")["Content-Security-Policy"] == "default-src 'none'"
    assert "default-src 'self'" in client.get("/")["Content-Security-Policy"]


def test_a_report_only_policy_is_sent_alongside(client: Client) -> None:
    report_only = {"DIRECTIVES": {"default-src": ["'self'"], "report-uri": ["/csp-report/"]}}
    with override_settings(CONTENT_SECURITY_POLICY_REPORT_ONLY=report_only):
        response = client.get("/")
    assert response["Content-Security-Policy-Report-Only"] == (
        "default-src 'self'; report-uri /csp-report/"
    )
    assert response["Content-Security-Policy"] == build_policy()
