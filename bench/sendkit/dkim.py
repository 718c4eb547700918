"""`--dkim`: the same send unsigned, DKIM-signed with RSA 2048, and with RSA 2048 + Ed25519
(the dual signature), in interleaved rounds.

Keys are made into a temporary folder and handed to the workers as the README's "Sending
through your own mail server" section documents (`DKIM_PRIVATE_KEY` as the path of a PEM file,
`DKIM_SELECTOR`, `DKIM_DOMAIN`; `DKIM_ED25519_PRIVATE_KEY`, `DKIM_ED25519_SELECTOR`). Before
the sends, one message per mode is built by the send's own code under those settings and its
signatures are verified with dkimpy against the keys' published DNS values, so a figure
labelled "signed" is one of signed mail.
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.dkim_sign import write_keys
from bench.sendkit.sink import BareRuns

UNSIGNED = "unsigned"
RSA = "RSA 2048"
DUAL = "RSA 2048 + Ed25519"
DKIM_SETTINGS = (
    "DKIM_PRIVATE_KEY",
    "DKIM_SELECTOR",
    "DKIM_DOMAIN",
    "DKIM_ED25519_PRIVATE_KEY",
    "DKIM_ED25519_SELECTOR",
)


def signing_modes(folder: Path, domain: str) -> dict[str, dict[str, str]]:
    """Each mode's DKIM settings (none for unsigned), with fresh keys written into `folder`."""
    rsa_path, ed_path = write_keys(folder)
    rsa_only = {
        "DKIM_PRIVATE_KEY": str(rsa_path),
        "DKIM_SELECTOR": "bench2026",
        "DKIM_DOMAIN": domain,
    }
    dual = {
        **rsa_only,
        "DKIM_ED25519_PRIVATE_KEY": str(ed_path),
        "DKIM_ED25519_SELECTOR": "bench2026-ed25519",
    }
    return {UNSIGNED: {}, RSA: rsa_only, DUAL: dual}


def environment_for(env: Mapping[str, str], mode: Mapping[str, str]) -> dict[str, str]:
    """The workers' environment for one mode: the bench's, any DKIM setting replaced."""
    return {**{k: v for k, v in env.items() if k not in DKIM_SETTINGS}, **mode}


def check_signatures(modes: Mapping[str, Mapping[str, str]]) -> str:
    """Build one recipient's message per mode with the send's own code and verify each of its
    DKIM signatures with dkimpy; exit if a mode's message is not signed as it should be."""
    from bench.sendkit import data

    issue = data.make_issue("DKIM check")
    found = []
    try:
        for name, settings in modes.items():
            message, records = _signed_message(issue, settings)
            count = message.count(b"DKIM-Signature:")
            expected = {UNSIGNED: 0, RSA: 1, DUAL: 2}[name]
            valid = _verified(message, count, records)
            if count != expected or not valid:
                raise SystemExit(f"{name}: {count} DKIM signatures (expected {expected}), "
                                 f"{'valid' if valid else 'NOT valid'}")  # fmt: skip
            found.append(f"{name} {count}")
    finally:
        issue.delete()
    return "signatures verified with dkimpy: " + ", ".join(found)


def _signed_message(issue: Any, settings: Mapping[str, str]) -> tuple[bytes, dict[bytes, bytes]]:
    """One recipient's message as the send writes it under `settings`, and the DNS TXT
    records of the keys those settings name."""
    from django.test import override_settings

    from newsletter.rendering import render_issue
    from newsletter.sending.claims import Claimed
    from newsletter.sending.messages import MessageFactory
    from newsletter.sending.smtp import SMTPMessages
    from newsroom.smtp import keys, signing

    row = Claimed(1, 1, "reader1@example.org", "active", 0)
    with override_settings(**{**dict.fromkeys(DKIM_SETTINGS, ""), **settings}):
        factory = MessageFactory(issue=issue, rendered=render_issue(issue), connection=None)
        message = SMTPMessages(factory).outgoing(row, show_ask=True).data
        current = signing.signer()
    records: dict[bytes, bytes] = {}
    for key in (current.rsa, current.ed25519) if current is not None else ():
        if key is not None:
            records[keys.dns_name(key.selector, key.domain).encode()] = key.dns_value().encode()
    return message, records


def _verified(message: bytes, count: int, records: dict[bytes, bytes]) -> bool:
    import dkim

    def lookup(name: bytes, timeout: int = 5) -> bytes | None:
        return records.get(name)

    verifier = dkim.DKIM(message)
    return all(verifier.verify(idx=n, dnsfunc=lookup) for n in range(count))


@dataclass
class SigningRates:
    """The pipeline's rate per mode over the rounds."""

    rates: dict[str, list[float]] = field(default_factory=dict)

    def add(self, mode: str, rate: float) -> None:
        self.rates.setdefault(mode, []).append(rate)

    def lines(self, bare: BareRuns) -> list[str]:
        base = statistics.median(self.rates[UNSIGNED])
        bare_median = statistics.median(bare.rates) if bare.rates else 0.0
        out = []
        for mode, values in self.rates.items():
            median = statistics.median(values)
            line = (
                f"{mode:>20}: {min(values):,.0f} / {median:,.0f} / {max(values):,.0f} "
                f"messages/s (min / median / max of {len(values)})"
            )
            if mode != UNSIGNED:
                line += f"; {median / base:.2f}x unsigned"
            if bare_median:
                line += f"; {median / bare_median:.2f}x the bare loop's median"
            out.append(line)
        return out
