"""Print the DNS TXT records that publish the DKIM public keys (or make new keys first).

python manage.py dkim_dns                  # records for DKIM_PRIVATE_KEY (+ Ed25519)
python manage.py dkim_dns --new-keys DIR   # write new keys to DIR, then print their records
"""

from __future__ import annotations

import os
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from newsroom.smtp.keys import RSA_GOOD_BITS, dns_name, dns_strings, load_ed25519, load_rsa


class Command(BaseCommand):
    help = "Print the DKIM DNS TXT records to publish (from the configured keys, or new ones)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--new-keys",
            metavar="DIR",
            help="Write a new RSA 2048 key and Ed25519 key (mode 600) into DIR and print their "
            "records; set DKIM_PRIVATE_KEY and DKIM_ED25519_PRIVATE_KEY to the printed paths.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        selector, domain = settings.DKIM_SELECTOR, settings.DKIM_DOMAIN
        if not selector or not domain:
            raise CommandError("Set DKIM_SELECTOR and DKIM_DOMAIN first (see .env.example).")
        rsa_value, ed_value = settings.DKIM_PRIVATE_KEY, settings.DKIM_ED25519_PRIVATE_KEY
        ed_selector = settings.DKIM_ED25519_SELECTOR
        if options["new_keys"]:
            ed_selector = ed_selector or f"{selector}-ed25519"
            rsa_value, ed_value = _write_new_keys(Path(options["new_keys"]))
            self.stdout.write(
                f"; New keys. Set:\n;   DKIM_PRIVATE_KEY={rsa_value}\n"
                f";   DKIM_ED25519_PRIVATE_KEY={ed_value}\n"
                f";   DKIM_ED25519_SELECTOR={ed_selector}\n"
            )
        if not rsa_value:
            raise CommandError("DKIM_PRIVATE_KEY is not set (or pass --new-keys DIR).")
        rsa_key = load_rsa(value=rsa_value, selector=selector, domain=domain)
        self.stdout.write(f"; DKIM, RSA {rsa_key.bits} bits, selector {selector}")
        if rsa_key.bits < RSA_GOOD_BITS:
            self.stdout.write(f"; warning: use at least {RSA_GOOD_BITS} bits (RFC 8301)")
        self._record(selector, domain, rsa_key.dns_value())
        if ed_value:
            if not ed_selector:
                raise CommandError("DKIM_ED25519_PRIVATE_KEY needs DKIM_ED25519_SELECTOR.")
            ed_key = load_ed25519(value=ed_value, selector=ed_selector, domain=domain)
            self.stdout.write(f"; DKIM, Ed25519 (RFC 8463), selector {ed_selector}")
            self._record(ed_selector, domain, ed_key.dns_value())
        self._alignment(domain)

    def _record(self, selector: str, domain: str, value: str) -> None:
        self.stdout.write(f"{dns_name(selector, domain)} IN TXT ( {dns_strings(value)} )")

    def _alignment(self, domain: str) -> None:
        sender = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2].lower()
        if sender != domain and not sender.endswith("." + domain):
            self.stdout.write(
                f"; warning: DEFAULT_FROM_EMAIL is at {sender}, not under {domain}: "
                "DMARC needs the DKIM domain to match the From domain."
            )


def _write_new_keys(folder: Path) -> tuple[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    rsa_pem = rsa.generate_private_key(public_exponent=65537, key_size=2048).private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    ed_pem = ed25519.Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    paths = []
    for name, pem in (("dkim-rsa.pem", rsa_pem), ("dkim-ed25519.pem", ed_pem)):
        path = folder / name
        if path.exists():
            raise CommandError(f"{path} exists; refusing to overwrite a key.")
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        paths.append(str(path.resolve()))
    return paths[0], paths[1]
