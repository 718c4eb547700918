"""In CI a test whose real service is missing fails; elsewhere it skips, saying why."""

from __future__ import annotations

import pytest
from django.test import override_settings

from tests.services import need_redis


@override_settings(REDIS_URL="")
def test_a_missing_service_fails_the_test_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI runs against real services"):
        need_redis()


@override_settings(REDIS_URL="")
def test_a_missing_service_skips_the_test_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="REDIS_URL is not set"):
        need_redis()


@override_settings(REDIS_URL="redis://127.0.0.1:6379/0")
def test_a_present_service_lets_the_test_run(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    assert need_redis() == "redis://127.0.0.1:6379/0"
