"""DKIM signatures (RFC 6376) on the mail the site sends over SMTP, made with dkimpy.

`sign(message_bytes)` returns the message with its DKIM-Signature header(s) in front: one RSA
signature, and an Ed25519 one too (RFC 8463) when `DKIM_ED25519_PRIVATE_KEY` is set, since
receivers that do not know Ed25519 yet ignore it and rely on the RSA one. With DKIM unset it
returns the message unchanged. Mail sent through an ESP is signed by the ESP, not here.

Signed header fields: those RFC 6376 (5.4.1) recommends that the message has (From, Reply-To,
To, Cc, Subject, Date, Message-ID, MIME-Version, Content-Type, List-Id, List-Unsubscribe, ...)
plus `List-Unsubscribe-Post`, which RFC 8058 requires a signature to cover. From and the two
unsubscribe fields are signed once more than they occur ("over-signed"), so nobody on the way
can add a second one without breaking the signature. Canonicalization is relaxed/simple
(dkimpy's default, Amazon SES's choice): relaxed for the header fields, which relays refold;
simple for the body, which nobody on our path rewrites (CRLF lines under 998 characters, as
the send writes them). Relaxed body canonicalization would cost ~1 ms of regular expressions
per signature on an 18 KiB issue, 3-4 times the RSA signature itself (bench/dkim_sign.py).

Keys are parsed once per process. dkimpy computes RSA in pure Python (about 6 ms a signature
here); it is handed OpenSSL's RSA for our keys instead (`_OpenSSLRSA`), which gives the same
PKCS#1 v1.5 signature, bit for bit, about 25 times faster (bench/dkim_sign.py).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import dkim
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from newsroom.smtp.keys import Ed25519Key, RSAKey, load_ed25519, load_rsa

logger = logging.getLogger(__name__)

CANONICALIZE = (b"relaxed", b"simple")
# RFC 8058 section 4: the signature must cover both unsubscribe fields.
EXTRA_SIGNED = frozenset({b"list-unsubscribe-post", b"auto-submitted"})
OVERSIGNED = frozenset({b"from", b"list-unsubscribe", b"list-unsubscribe-post"})


class _OpenSSLRSA:
    """An RSA private key held by OpenSSL, passed to dkimpy where it expects its parsed key."""

    def __init__(self, key: rsa.RSAPrivateKey) -> None:
        self.key = key

    def sign_digest(self, digest: bytes) -> bytes:
        return self.key.sign(digest, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256()))


def _install_openssl_rsa() -> bool:
    """Let dkimpy's RSA step use OpenSSL for `_OpenSSLRSA` keys; any other key (dkimpy's own
    parsed dict) goes down dkimpy's pure-Python path exactly as before. If a dkimpy release
    renames these functions, nothing is replaced and signing stays correct, only slower."""
    parse = getattr(dkim, "parse_pem_private_key", None)
    sign = getattr(dkim, "RSASSA_PKCS1_v1_5_sign", None)
    if parse is None or sign is None:
        logger.warning("dkimpy changed: RSA signatures use its pure-Python RSA")
        return False
    if getattr(sign, "openssl", False):
        return True

    def parse_key(data: Any) -> Any:
        return data if isinstance(data, _OpenSSLRSA) else parse(data)

    def sign_hash(hash_: Any, private_key: Any) -> bytes:
        if isinstance(private_key, _OpenSSLRSA):
            return private_key.sign_digest(hash_.digest())
        return bytes(sign(hash_, private_key))

    sign_hash.openssl = True  # type: ignore[attr-defined]
    dkim.parse_pem_private_key = parse_key
    dkim.RSASSA_PKCS1_v1_5_sign = sign_hash
    return True


@dataclass(frozen=True)
class Signer:
    rsa: RSAKey
    ed25519: Ed25519Key | None
    openssl: bool

    def sign(self, message: bytes) -> bytes:
        """The message with DKIM-Signature header(s) prepended (CRLF line endings kept)."""
        signer = dkim.DKIM(message, linesep=b"\r\n")
        signer.should_sign.update(EXTRA_SIGNED)
        signer.frozen_sign.update(OVERSIGNED)
        headers = b""
        if self.ed25519 is not None:
            headers += signer.sign(
                self.ed25519.selector.encode(), self.ed25519.domain.encode(),
                self.ed25519.seed_b64, signature_algorithm=b"ed25519-sha256",
                canonicalize=CANONICALIZE,
            )  # fmt: skip
        rsa_key: Any = _OpenSSLRSA(self.rsa.key) if self.openssl else self._pem()
        headers += signer.sign(
            self.rsa.selector.encode(), self.rsa.domain.encode(), rsa_key,
            signature_algorithm=b"rsa-sha256", canonicalize=CANONICALIZE,
        )  # fmt: skip
        return headers + message

    def _pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return self.rsa.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )


def configured() -> bool:
    return bool(settings.DKIM_PRIVATE_KEY)


def signer() -> Signer | None:
    """The process's signer for the current settings, or None when DKIM is not configured."""
    if not configured():
        return None
    return _signer(
        settings.DKIM_PRIVATE_KEY,
        settings.DKIM_SELECTOR,
        settings.DKIM_DOMAIN,
        settings.DKIM_ED25519_PRIVATE_KEY,
        settings.DKIM_ED25519_SELECTOR,
    )


@lru_cache(maxsize=4)
def _signer(key: str, selector: str, domain: str, ed_key: str, ed_selector: str) -> Signer:
    if not selector or not domain:
        raise ImproperlyConfigured("DKIM_PRIVATE_KEY needs DKIM_SELECTOR and DKIM_DOMAIN.")
    if ed_key and not ed_selector:
        raise ImproperlyConfigured("DKIM_ED25519_PRIVATE_KEY needs DKIM_ED25519_SELECTOR.")
    if ed_selector and ed_selector == selector:
        raise ImproperlyConfigured("DKIM_ED25519_SELECTOR must differ from DKIM_SELECTOR.")
    return Signer(
        rsa=load_rsa(value=key, selector=selector, domain=domain),
        ed25519=(
            load_ed25519(value=ed_key, selector=ed_selector, domain=domain) if ed_key else None
        ),
        openssl=_install_openssl_rsa(),
    )


def sign(message: bytes) -> bytes:
    """`message` DKIM-signed when DKIM is configured, else unchanged."""
    current = signer()
    return current.sign(message) if current is not None else message
