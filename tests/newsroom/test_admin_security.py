from __future__ import annotations

import pytest
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
