"""The return path of each newsletter message: `bounces+<token>@BOUNCE_DOMAIN` (VERP).

Bounces go to the envelope sender, so the address a bounce arrives at says which message
bounced. The token names one delivery (issue, subscriber). It is encrypted and authenticated
with AES-SIV (cryptography), under a key derived from SECRET_KEY for this purpose alone: it
reveals no id to whoever sees it, and a forged, altered or truncated token reads as nothing.
(SECRET_KEY_FALLBACKS are tried too, so bounces of mail sent before a key rotation still
count.) It is base32 in lower case, 47 characters, so the local part (55) fits SMTP's 64 and
survives servers that change its case.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from django.conf import settings
from django.utils.crypto import salted_hmac

LOCAL_PART = "bounces"
_SALT = "newsletter.bounces.verp"
_PURPOSE = [b"newsletter bounce address v1"]
_PAYLOAD = struct.Struct(">BIQ")  # version, issue id, subscriber id
_VERSION = 1
_TOKEN_LENGTH = 47  # base32 of 16 (SIV tag) + 13 bytes, without padding


@dataclass(frozen=True, slots=True)
class DeliveryRef:
    issue_id: int
    subscriber_id: int


@lru_cache(maxsize=4)
def _ciphers(secrets: tuple[str, ...]) -> tuple[AESSIV, ...]:
    return tuple(
        AESSIV(salted_hmac(_SALT, "aes-siv", secret=secret, algorithm="sha512").digest())
        for secret in secrets
    )


def _keys() -> tuple[AESSIV, ...]:
    return _ciphers((settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS))


def make_token(*, issue_id: int, subscriber_id: int) -> str:
    payload = _PAYLOAD.pack(_VERSION, issue_id, subscriber_id)
    sealed = _keys()[0].encrypt(payload, _PURPOSE)
    return base64.b32encode(sealed).decode().rstrip("=").lower()


def read_token(token: str) -> DeliveryRef | None:
    """The delivery a token names, or None for anything we did not make."""
    if len(token) != _TOKEN_LENGTH or not token.isascii():
        return None
    try:
        sealed = base64.b32decode(token.upper() + "=" * (-len(token) % 8))
    except (binascii.Error, ValueError):
        return None
    for cipher in _keys():
        try:
            version, issue_id, subscriber_id = _PAYLOAD.unpack(cipher.decrypt(sealed, _PURPOSE))
        except (InvalidTag, struct.error):
            continue
        if version == _VERSION:
            return DeliveryRef(issue_id=issue_id, subscriber_id=subscriber_id)
    return None


def return_path(*, issue_id: int, subscriber_id: int) -> str | None:
    """The envelope sender for this delivery; None when BOUNCE_DOMAIN is not set."""
    domain: str = settings.BOUNCE_DOMAIN
    if not domain or issue_id > 0xFFFFFFFF:
        return None
    return f"{LOCAL_PART}+{make_token(issue_id=issue_id, subscriber_id=subscriber_id)}@{domain}"


def split_ours(address: str) -> tuple[bool, str | None]:
    """(whether `address` is a mailbox of our bounce domain, the token in it if any).

    Ours: `bounces@BOUNCE_DOMAIN` (the address to give feedback loops) and
    `bounces+<anything>@BOUNCE_DOMAIN`; domain and local part in any case.
    """
    domain: str = settings.BOUNCE_DOMAIN
    local, at, host = address.strip().strip("<>").rpartition("@")
    if not domain or not at or host.lower().rstrip(".") != domain:
        return False, None
    name, plus, token = local.partition("+")
    if name.lower() != LOCAL_PART:
        return False, None
    return True, (token if plus else None)


def read_address(address: str) -> DeliveryRef | None:
    """The delivery a bounce address names (None if it is not one of ours, or forged)."""
    ours, token = split_ours(address)
    return read_token(token) if ours and token else None
