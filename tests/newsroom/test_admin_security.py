from __future__ import annotations

import logging

import pytest
from axes.models import AccessAttempt, AccessLog
from django.contrib.auth import get_user_model
from django.test import Client, override_settings


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3)
def test_admin_login_locks_out_after_repeated_failures_even_with_the_right_password() -> None:
    get_user_model().objects.create_superuser("editor", "editor@example.org", "correct-horse-9")
    client = Client()
    for _ in range(3):
        response = client.post(
            "/admin/login/?next=/admin/", {"username": "editor", "password": "wrong"}
        )
        assert response.status_code in (200, 429)
    locked = client.post(
        "/admin/login/?next=/admin/", {"username": "editor", "password": "correct-horse-9"}
    )
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_staff_can_log_in_to_the_admin() -> None:
    get_user_model().objects.create_superuser("editor", "editor@example.org", "correct-horse-9")
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": "editor", "password": "correct-horse-9"}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


@pytest.mark.django_db
def test_admin_requires_a_staff_login(client: Client) -> None:
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


STAFF_ADDRESS = "203.0.113.77"


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3)
def test_failed_logins_and_the_lockout_log_neither_the_username_nor_the_address(
    caplog: pytest.LogCaptureFixture,
) -> None:
    get_user_model().objects.create_superuser("editor", "editor@example.org", "correct-horse-9")
    caplog.set_level(logging.DEBUG)
    client = Client(REMOTE_ADDR=STAFF_ADDRESS)
    for _ in range(4):
        client.post("/admin/login/", {"username": "editor@example.org", "password": "wrong"})
    locked = client.post("/admin/login/", {"username": "editor@example.org", "password": "x"})
    assert locked.status_code == 429
    assert caplog.records  # axes did log the failures and the lockout...
    assert STAFF_ADDRESS not in caplog.text  # ...without the address
    assert "editor" not in caplog.text


@pytest.mark.django_db
def test_a_staff_login_leaves_no_record_of_their_address_or_browser() -> None:
    get_user_model().objects.create_superuser("editor", "editor@example.org", "correct-horse-9")
    client = Client(REMOTE_ADDR=STAFF_ADDRESS, HTTP_USER_AGENT="Staff Browser 1.0")
    client.post("/admin/login/", {"username": "editor", "password": "typo"})
    assert AccessAttempt.objects.filter(ip_address=STAFF_ADDRESS).exists()  # counted for lockout
    response = client.post("/admin/login/", {"username": "editor", "password": "correct-horse-9"})
    assert response.status_code == 302
    assert not AccessAttempt.objects.exists()  # the failure is forgotten once they are in
    assert not AccessLog.objects.exists()  # and no log of who logged in from where
