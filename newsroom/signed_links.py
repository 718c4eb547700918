"""Signed links: one class for every token the site mails (confirm, unsubscribe, manage,
reminder stop, draft preview, ...), in the manner of Django's `PasswordResetTokenGenerator`.

A token names one row id and when it was made, sealed with AES-SIV (deterministic
authenticated encryption from `cryptography`) under a key derived from `SECRET_KEY` for this
purpose alone: it is opaque (no readable id, nothing to enumerate), cannot be altered or moved
to another purpose, and expires after the purpose's max age. Keys are derived when first used,
never at import, and `SECRET_KEY_FALLBACKS` still open tokens made before a key rotation.
Making one costs about as much as one HMAC (the newsletter send makes one per recipient).

Links mailed before this format keep working: a purpose may name a `legacy` reader for the
`django.core.signing` tokens it used to issue (they contain a colon; these never do).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import struct
import time
from collections.abc import Callable
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from django.conf import settings
from django.core import signing
from django.urls import reverse

from newsroom.errors import ExpiredLink, InvalidLink

_PAYLOAD = struct.Struct(">QI")  # the row id, when the token was made (Unix seconds)
_TOKEN_LENGTH = 38  # base64url of a 16-byte synthetic IV + the 12-byte sealed payload

MaxAge = Callable[[], int | None]
LegacyReader = Callable[[str], int]


@lru_cache(maxsize=32)
def _sealer(secret: bytes, purpose: str) -> AESSIV:
    key = hmac.new(secret, b"newsroom.signed-link:" + purpose.encode(), hashlib.sha512)
    return AESSIV(key.digest())


def _secret(key: str | bytes) -> bytes:
    return key if isinstance(key, bytes) else key.encode()


def _secrets() -> list[bytes]:
    return [_secret(settings.SECRET_KEY), *map(_secret, settings.SECRET_KEY_FALLBACKS)]


class SignedLink:
    """Tokens for one purpose: `make(id)` -> str, `read(token)` -> id (or `InvalidLink`)."""

    def __init__(
        self, purpose: str, *, max_age: MaxAge = lambda: None, legacy: LegacyReader | None = None
    ) -> None:
        self.purpose = purpose
        self.max_age = max_age  # seconds, read when a token is read (settings may change)
        self.legacy = legacy
        self._associated = [purpose.encode()]

    def make(self, object_id: int, *, now: float | None = None) -> str:
        """A lasting purpose's token is the same each time (no time in it to vary)."""
        lasting = self.max_age() is None
        issued = 0 if lasting else int(time.time() if now is None else now)
        payload = _PAYLOAD.pack(object_id, issued)
        sealed = _sealer(_secret(settings.SECRET_KEY), self.purpose).encrypt(
            payload, self._associated
        )
        return base64.urlsafe_b64encode(sealed).rstrip(b"=").decode("ascii")

    def read(self, token: str, *, now: float | None = None) -> int:
        """The id the token names; `ExpiredLink` past its age, `InvalidLink` otherwise."""
        if self.legacy is not None and ":" in token:
            return self.legacy(token)
        object_id, issued = self._open(token)
        max_age = self.max_age()
        if max_age is not None and (time.time() if now is None else now) - issued > max_age:
            raise ExpiredLink(extra={"purpose": self.purpose})
        return object_id

    def read_expired(self, token: str, *, within: int, now: float | None = None) -> int:
        """The id a genuine token names up to `within` seconds past its max age (to offer a
        fresh link in place of an expired one); `ExpiredLink` past that, `InvalidLink` for
        anything not genuine. Tokens of the old format are read as `read` reads them."""
        if self.legacy is not None and ":" in token:
            return self.legacy(token)
        object_id, issued = self._open(token)
        max_age = self.max_age()
        age = (time.time() if now is None else now) - issued
        if max_age is not None and age > max_age + within:
            raise ExpiredLink(extra={"purpose": self.purpose})
        return object_id

    def _open(self, token: str) -> tuple[int, int]:
        if len(token) != _TOKEN_LENGTH or not token.isascii():
            raise InvalidLink(extra={"purpose": self.purpose})
        try:
            sealed = base64.urlsafe_b64decode(token + "==")
        except (binascii.Error, ValueError) as error:
            raise InvalidLink(extra={"purpose": self.purpose}) from error
        for secret in _secrets():
            try:
                payload = _sealer(secret, self.purpose).decrypt(sealed, self._associated)
            except InvalidTag:
                continue
            object_id, issued = _PAYLOAD.unpack(payload)
            return object_id, issued
        raise InvalidLink(extra={"purpose": self.purpose})


def legacy_reader(
    *, salt: str, max_age: MaxAge, decode: Callable[[object], int], timestamped: bool = True
) -> LegacyReader:
    """A reader for tokens made by `django.core.signing` (`dumps`, or `Signer.sign` when not
    `timestamped`) before this format; `decode` turns their payload into the id."""

    def read(token: str) -> int:
        try:
            if timestamped:
                value: object = signing.loads(token, salt=salt, max_age=max_age())
            else:
                value = signing.Signer(salt=salt).unsign(token)
            return decode(value)
        except signing.SignatureExpired as error:
            raise ExpiredLink(extra={"purpose": salt}) from error
        except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
            raise InvalidLink(extra={"purpose": salt}) from error

    return read


_TOKEN_PLACEHOLDER = "TOKEN"  # noqa: S105 - a placeholder in a URL pattern, not a secret


@lru_cache(maxsize=32)
def _url_prefix(site_url: str, route_name: str) -> str:
    path = reverse(route_name, kwargs={"token": _TOKEN_PLACEHOLDER})
    return site_url.rstrip("/") + path[: path.index(_TOKEN_PLACEHOLDER)]


def token_url(route_name: str, token: str) -> str:
    """The absolute URL of a `<token>` route (for emails). The prefix is resolved once per
    site and route, so the send's per-recipient links cost no `reverse()` each."""
    return f"{_url_prefix(settings.SITE_URL, route_name)}{token}/"
