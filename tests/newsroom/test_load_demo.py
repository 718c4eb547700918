"""The run command's demo data: a staff login that works, loaded once however often it runs."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from newsroom.management.commands.load_demo import DEMO_PASSWORD, DEMO_USERNAME

pytestmark = pytest.mark.django_db


def test_demo_data_is_refused_in_production_mode() -> None:
    with override_settings(DEBUG=False), pytest.raises(CommandError, match="DEBUG"):
        call_command("load_demo")
    assert not get_user_model().objects.exists()


@override_settings(DEBUG=True)
def test_the_demo_login_printed_by_the_run_command_opens_the_admin_after_two_loads() -> None:
    call_command("load_demo", stdout=None)
    call_command("load_demo", stdout=None)
    assert get_user_model().objects.filter(username=DEMO_USERNAME).count() == 1
    client = Client()
    response = client.post(
        "/admin/login/?next=/admin/", {"username": DEMO_USERNAME, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200
