"""The return path of each newsletter message: `bounces+<token>@BOUNCE_DOMAIN` (VERP).

Bounces go to the envelope sender, so the address a bounce arrives at says which message
bounced. The token names one delivery row. It is a `SignedLink` token of its own purpose
(AES-SIV under a key derived from SECRET_KEY; SECRET_KEY_FALLBACKS still read): it reveals no
id to whoever sees it, and a forged, altered or truncated token reads as nothing. Only its
spelling differs from a link's: base32 in lower case instead of base64url, so the local part
survives mail servers that change its case; the local part is 53 characters, within SMTP's 64.
"""

from __future__ import annotations

import base64
import binascii

from django.conf import settings

from newsroom.errors import InvalidLink
from newsroom.signed_links import SignedLink

LOCAL_PART = "bounces"
_TOKEN_LENGTH = 45  # base32 of the 28 sealed bytes, without padding

bounce_address_link = SignedLink("newsletter.bounce-address")  # lasting: bounces come late


def make_token(delivery_id: int) -> str:
    sealed = base64.urlsafe_b64decode(bounce_address_link.make(delivery_id) + "==")
    return base64.b32encode(sealed).decode().rstrip("=").lower()


def read_token(token: str) -> int | None:
    """The delivery id a token names, or None for anything we did not make."""
    if len(token) != _TOKEN_LENGTH or not token.isascii():
        return None
    try:
        sealed = base64.b32decode(token.upper() + "=" * (-len(token) % 8))
        return bounce_address_link.read(base64.urlsafe_b64encode(sealed).decode().rstrip("="))
    except (binascii.Error, ValueError, InvalidLink):
        return None


def return_path(delivery_id: int) -> str | None:
    """The envelope sender for this delivery; None when BOUNCE_DOMAIN is not set."""
    domain: str = settings.BOUNCE_DOMAIN
    return f"{LOCAL_PART}+{make_token(delivery_id)}@{domain}" if domain else None


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


def read_address(address: str) -> int | None:
    """The delivery id a bounce address names (None if not one of ours, or forged)."""
    ours, token = split_ours(address)
    return read_token(token) if ours and token else None
