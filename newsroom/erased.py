"""Addresses erased at their owner's request, remembered only as a keyed hash.

The hash is HMAC-SHA256 of the normalised address under a key derived from `SECRET_KEY` for
this purpose (Django's `salted_hmac`), so the table says nothing to someone who reads it
without the key, and nobody can test it against a list of addresses. It exists so that a CSV
import or a staff edit cannot quietly bring an erased address back; the reader's own act
(signing up again through the form and confirming) is welcome, and forgets the hash.
Keys in `SECRET_KEY_FALLBACKS` are checked too, so a key rotation does not forget erasures
(a hash found under an old key is rewritten under the current one).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from django.conf import settings
from django.utils.crypto import salted_hmac

from newsroom.models import ErasedAddress

logger = logging.getLogger(__name__)

KEY_SALT = "newsroom.erased-address"
ERASED_MESSAGE = (
    "This address was erased at its owner's request. It can come back only by its owner "
    "signing up or giving again themselves."
)


def _normalise(email: str) -> str:
    return email.strip().lower()


def address_digest(email: str, *, secret: str | bytes | None = None) -> str:
    """The keyed hash of an address (under `secret`, by default the current SECRET_KEY)."""
    return salted_hmac(KEY_SALT, _normalise(email), secret=secret, algorithm="sha256").hexdigest()


def _digests(email: str) -> list[str]:
    secrets = [settings.SECRET_KEY, *settings.SECRET_KEY_FALLBACKS]
    return [address_digest(email, secret=secret) for secret in secrets]


def erased_address_remember(email: str) -> None:
    """Remember that `email` was erased (idempotent)."""
    if not email:
        return
    ErasedAddress.objects.get_or_create(digest=address_digest(email))


def address_is_erased(email: str) -> bool:
    if not email:
        return False
    digests = _digests(email)
    found = set(ErasedAddress.objects.filter(digest__in=digests).values_list("digest", flat=True))
    if found and digests[0] not in found:  # erased under an old key: rewrite under today's
        ErasedAddress.objects.get_or_create(digest=digests[0])
    return bool(found)


def erased_addresses_among(emails: Iterable[str]) -> set[str]:
    """Those of `emails` (normalised) that were erased; one query per thousand addresses."""
    by_digest: dict[str, str] = {}
    for email in emails:
        for digest in _digests(email):
            by_digest[digest] = _normalise(email)
    found: set[str] = set()
    digests = list(by_digest)
    for start in range(0, len(digests), 1000):
        chunk = digests[start : start + 1000]
        rows = ErasedAddress.objects.filter(digest__in=chunk).values_list("digest", flat=True)
        found.update(by_digest[digest] for digest in rows)
    return found


def erased_address_welcome_back(email: str) -> bool:
    """The owner came back by their own act (confirmed a sign-up): forget the hash."""
    deleted, _ = ErasedAddress.objects.filter(digest__in=_digests(email)).delete()
    if deleted:
        logger.info("erased address came back by its owner's act")
    return bool(deleted)
