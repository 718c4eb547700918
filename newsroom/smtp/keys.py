"""DKIM private keys from settings, loaded once: an RSA key and, optionally, an Ed25519 key.

A setting holds the key itself (PEM text; `\\n` escapes allowed, as environment files often
need) or the path of a file that holds it. An Ed25519 key may also be dkimpy's `dknewkey`
format: the base64 of its 32-byte seed.
"""

from __future__ import annotations

import base64
import binascii
import textwrap
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.core.exceptions import ImproperlyConfigured

RSA_MIN_BITS = 1024  # RFC 8301: verifiers refuse shorter keys
RSA_GOOD_BITS = 2048  # RFC 8301: signers SHOULD use at least this


@dataclass(frozen=True)
class RSAKey:
    selector: str
    domain: str
    key: rsa.RSAPrivateKey

    @property
    def bits(self) -> int:
        return self.key.key_size

    def dns_value(self) -> str:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return f"v=DKIM1; k=rsa; p={base64.b64encode(der).decode()}"


@dataclass(frozen=True)
class Ed25519Key:
    selector: str
    domain: str
    key: ed25519.Ed25519PrivateKey

    @property
    def seed_b64(self) -> bytes:
        """The private key as dkimpy's `sign()` takes it: base64 of the 32-byte seed."""
        raw = self.key.private_bytes(
            serialization.Encoding.Raw,
            serialization.PrivateFormat.Raw,
            serialization.NoEncryption(),
        )
        return base64.b64encode(raw)

    def dns_value(self) -> str:
        raw = self.key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        return f"v=DKIM1; k=ed25519; p={base64.b64encode(raw).decode()}"


def dns_name(selector: str, domain: str) -> str:
    return f"{selector}._domainkey.{domain}."


def dns_strings(value: str) -> str:
    """A TXT value as DNS zone files need it: quoted strings of at most 255 characters."""
    return " ".join(f'"{chunk}"' for chunk in textwrap.wrap(value, 255, break_on_hyphens=False))


def _key_text(setting: str, value: str) -> str:
    text = value.strip()
    if text.startswith("-----BEGIN"):
        return text.replace("\\n", "\n")
    path = Path(text)
    if path.is_file():
        try:
            return path.read_text()
        except OSError as error:
            raise ImproperlyConfigured(f"{setting}: {path} cannot be read ({error}).") from error
    if setting.startswith("DKIM_ED25519") and _seed(text) is not None:
        return text
    raise ImproperlyConfigured(f"{setting} is neither a PEM key nor the path of a key file.")


def _seed(text: str) -> bytes | None:
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if len(raw) == 32 else None


def _pem_key(setting: str, text: str) -> object:
    try:
        return serialization.load_pem_private_key(text.encode(), password=None)
    except (ValueError, TypeError) as error:
        raise ImproperlyConfigured(
            f"{setting} is not an unencrypted PEM private key ({error})."
        ) from error


def load_rsa(*, value: str, selector: str, domain: str) -> RSAKey:
    key = _pem_key("DKIM_PRIVATE_KEY", _key_text("DKIM_PRIVATE_KEY", value))
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ImproperlyConfigured("DKIM_PRIVATE_KEY is not an RSA key.")
    if key.key_size < RSA_MIN_BITS:
        raise ImproperlyConfigured(
            f"DKIM_PRIVATE_KEY has {key.key_size} bits; receivers refuse fewer than "
            f"{RSA_MIN_BITS} (use {RSA_GOOD_BITS})."
        )
    return RSAKey(selector=selector, domain=domain, key=key)


def load_ed25519(*, value: str, selector: str, domain: str) -> Ed25519Key:
    text = _key_text("DKIM_ED25519_PRIVATE_KEY", value)
    seed = _seed(text.strip())
    key = (
        ed25519.Ed25519PrivateKey.from_private_bytes(seed)
        if seed is not None
        else _pem_key("DKIM_ED25519_PRIVATE_KEY", text)
    )
    if not isinstance(key, ed25519.Ed25519PrivateKey):
        raise ImproperlyConfigured("DKIM_ED25519_PRIVATE_KEY is not an Ed25519 key.")
    return Ed25519Key(selector=selector, domain=domain, key=key)
