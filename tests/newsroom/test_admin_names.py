"""The admin's names are the README's words: staff read one vocabulary in both."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def test_every_list_in_the_admin_is_named_in_the_readme() -> None:
    words = README.lower()
    names = [
        str(model._meta.verbose_name_plural)
        for model in admin.site._registry
        if model._meta.app_label in ("donations", "newsletter")
    ]
    assert len(names) >= 9
    for name in names:
        assert name.lower() in words, name


@pytest.mark.django_db
def test_the_admin_index_speaks_of_payments_recurring_gifts_and_failed_renewals() -> None:
    client = Client()
    client.force_login(get_user_model().objects.create_superuser("boss", "b@example.org", "x"))
    html = client.get("/admin/").content.decode()
    for name in ("Payments", "Recurring gifts", "Failed renewals", "Stripe events"):
        assert f">{name}</a>" in html, name
    for old in ("Failed payments", "Recurring donations", ">Donations</a></th>"):
        assert old not in html, old
