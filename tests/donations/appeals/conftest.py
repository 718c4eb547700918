from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.test import Client

from donations.appeals.store import reset_store


@pytest.fixture(autouse=True)
def _fresh_store() -> Iterator[None]:
    """Counters and the appeal's version live in the cache (this run's own Redis db)."""
    reset_store()
    cache.clear()
    yield
    cache.clear()
    reset_store()


@pytest.fixture
def staff(db: None) -> Client:
    """A separate browser, logged in as staff (the `client` fixture stays a reader)."""
    user = User.objects.create_user("appeal-editor", password="pw-editor-123", is_staff=True)
    user.is_superuser = True
    user.save()
    browser = Client()
    browser.force_login(user)
    return browser
