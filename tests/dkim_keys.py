"""DKIM keys for tests, and a DNS stand-in that answers with the records `dkim_dns` prints."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.core.management import call_command
from django.test import override_settings

SELECTOR = "news2026"
ED_SELECTOR = "news2026-ed"
DOMAIN = "news.example.org"


@cache
def _rsa_pem() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


@cache
def _ed_pem() -> bytes:
    return ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


@dataclass
class DkimSetup:
    rsa_path: Path
    ed_path: Path

    def records(self) -> dict[bytes, bytes]:
        """Run `manage.py dkim_dns` and read its zone-file lines back: name -> TXT value."""
        out = io.StringIO()
        call_command("dkim_dns", stdout=out)
        records = {}
        for line in out.getvalue().splitlines():
            match = re.match(r"^(\S+) IN TXT \( (.*) \)$", line)
            if match:
                value = "".join(re.findall(r'"([^"]*)"', match.group(2)))
                records[match.group(1).encode()] = value.encode()
        return records

    def dnsfunc(self) -> object:
        records = self.records()

        def lookup(name: bytes, timeout: int = 5) -> bytes | None:
            return records.get(name)

        return lookup


@pytest.fixture
def dkim_setup(tmp_path: Path) -> Iterator[DkimSetup]:
    """Both keys as files (as production holds them), and the settings that name them."""
    rsa_path, ed_path = tmp_path / "rsa.pem", tmp_path / "ed25519.pem"
    rsa_path.write_bytes(_rsa_pem())
    ed_path.write_bytes(_ed_pem())
    with override_settings(
        DKIM_PRIVATE_KEY=str(rsa_path),
        DKIM_SELECTOR=SELECTOR,
        DKIM_DOMAIN=DOMAIN,
        DKIM_ED25519_PRIVATE_KEY=str(ed_path),
        DKIM_ED25519_SELECTOR=ED_SELECTOR,
        DEFAULT_FROM_EMAIL=f"The Independent Ledger <newsletter@{DOMAIN}>",
    ):
        yield DkimSetup(rsa_path=rsa_path, ed_path=ed_path)
