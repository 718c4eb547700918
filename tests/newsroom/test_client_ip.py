"""One client address for everything that keys by client, honouring TRUSTED_PROXIES."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory, override_settings
from hypothesis import given
from hypothesis import strategies as st

from newsroom.client_ip import client_ip

PROXY = "10.0.0.2"


def _ip(remote: str, forwarded: str | None = None) -> str:
    request = RequestFactory().get("/", REMOTE_ADDR=remote)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(request)


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_behind_a_trusted_proxy_the_forwarded_client_is_used() -> None:
    assert _ip(PROXY, "198.51.100.7") == "198.51.100.7"
    # Two trusted hops (CDN then load balancer): still the client.
    assert _ip(PROXY, "198.51.100.7, 10.1.2.3") == "198.51.100.7"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_a_spoofed_left_part_of_the_chain_is_not_believed() -> None:
    # The client sent its own X-Forwarded-For; our proxy appended the real address.
    assert _ip(PROXY, "1.2.3.4, 198.51.100.7") == "198.51.100.7"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8"])
def test_a_direct_connection_cannot_pick_its_address_by_sending_the_header() -> None:
    assert _ip("203.0.113.9", "198.51.100.7") == "203.0.113.9"


@override_settings(TRUSTED_PROXIES=[])
def test_without_trusted_proxies_the_header_is_ignored() -> None:
    assert _ip("203.0.113.9", "198.51.100.7") == "203.0.113.9"


@override_settings(TRUSTED_PROXIES=["10.0.0.0/8", "2001:db8::/32"])
@given(remote=st.text(max_size=40), forwarded=st.text(max_size=200))
def test_any_header_gives_an_address_or_nothing_never_an_error(remote: str, forwarded: str) -> None:
    result = _ip(remote, forwarded)
    assert isinstance(result, str)


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3, TRUSTED_PROXIES=[PROXY])
def test_wrong_passwords_from_one_forwarded_client_do_not_lock_the_editor_out_elsewhere() -> None:
    get_user_model().objects.create_superuser("editor", "editor@example.org", "correct-horse-9")
    attacker = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.66")
    for _ in range(5):
        attacker.post("/admin/login/?next=/admin/", {"username": "editor", "password": "wrong"})
    locked = attacker.post(
        "/admin/login/?next=/admin/", {"username": "editor", "password": "correct-horse-9"}
    )
    assert locked.status_code == 429  # the attacker's own address is locked...
    editor = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="192.0.2.10")
    response = editor.post(
        "/admin/login/?next=/admin/", {"username": "editor", "password": "correct-horse-9"}
    )
    assert response.status_code == 302  # ...the editor, elsewhere behind the same proxy, is not
    assert "_auth_user_id" in editor.session


@pytest.mark.django_db
@override_settings(AXES_FAILURE_LIMIT=3, TRUSTED_PROXIES=[PROXY])
def test_rotating_a_spoofed_header_from_an_untrusted_peer_does_not_dodge_the_lockout() -> None:
    get_user_model().objects.create_superuser("editor", "editor@example.org", "correct-horse-9")
    for n in range(5):
        Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR=f"198.51.100.{n}").post(
            "/admin/login/", {"username": "editor", "password": "wrong"}
        )
    again = Client(REMOTE_ADDR="203.0.113.9", HTTP_X_FORWARDED_FOR="198.51.100.99")
    response = again.post("/admin/login/", {"username": "editor", "password": "correct-horse-9"})
    assert response.status_code == 429


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=[PROXY], DONATIONS_EMAIL_RATE="2/m")
def test_rate_limits_key_by_the_forwarded_client() -> None:
    def post(client_address: str) -> int:
        client = Client(REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR=client_address)
        return client.post("/support/manage/", {"email": "a@example.org"}).status_code

    assert [post("198.51.100.1") for _ in range(3)] == [200, 200, 429]
    assert post("198.51.100.2") == 200  # another reader behind the same proxy is not limited


@pytest.mark.django_db
@override_settings(
    DONATIONS_EMAIL_RATE="1/m",
    CACHES={
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens: every call fails at once
            "OPTIONS": {"socket_connect_timeout": 0.2, "socket_timeout": 0.2},
        }
    },
)
def test_an_unreachable_limiter_lets_readers_through_and_says_so(
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = Client(REMOTE_ADDR="198.51.100.7")
    statuses = [
        client.post("/support/manage/", {"email": "a@example.org"}).status_code for _ in range(3)
    ]
    assert statuses == [200, 200, 200]
    assert "rate limit not checked: cache unreachable" in caplog.text
