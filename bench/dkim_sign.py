"""Messages per second the newsletter's SMTP fast path builds, unsigned and DKIM-signed.

Renders a real 12-story issue once, then builds one recipient's message bytes after another
with the send's own `PrebuiltMessages.bytes_for` (personal links and headers, and the DKIM
signature when DKIM is set), in interleaved rounds:

    unsigned              the baseline: building the bytes, no signature
    RSA 2048              one signature, RSA through OpenSSL (what DKIM_PRIVATE_KEY gives)
    RSA 2048 + Ed25519    the dual signature (DKIM_ED25519_PRIVATE_KEY set too)
    Ed25519 alone         an Ed25519 signature only, for comparison (not offered: most
                          receivers do not verify Ed25519 yet)
    RSA 2048, dkimpy's    dkimpy's own pure-Python RSA, for comparison (not used)
    own RSA

and prints the median rate of each, the cost of signing per message, and the message size.
One process, one core; nothing is sent. SQLite in a temporary folder; touches no other data.

    python bench/dkim_sign.py [--messages 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(folder: Path) -> None:
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "newsroom.settings",
            "DEBUG": "true",
            "VAR_DIR": str(folder),
            "LOG_LEVEL": "WARNING",
            "SITE_URL": "https://news.example.org",
            "DEFAULT_FROM_EMAIL": "The Independent Ledger <newsletter@news.example.org>",
        }
    )
    for name in ("DATABASE_URL", "REDIS_URL", "EMAIL_URL", "DKIM_PRIVATE_KEY", "BOUNCE_DOMAIN"):
        os.environ.pop(name, None)
    sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def write_keys(folder: Path) -> tuple[Path, Path]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    pkcs8 = serialization.PrivateFormat.PKCS8
    rsa_path, ed_path = folder / "rsa.pem", folder / "ed25519.pem"
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    rsa_path.write_bytes(
        rsa_key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption())
    )
    ed_key = ed25519.Ed25519PrivateKey.generate()
    ed_path.write_bytes(
        ed_key.private_bytes(serialization.Encoding.PEM, pkcs8, serialization.NoEncryption())
    )
    return rsa_path, ed_path


def make_issue() -> object:
    from django.utils import timezone

    from newsletter.models import Issue, IssueItem

    issue = Issue.objects.create(
        subject="This week: the port, the budget, the river",
        preheader="Rivers, courts and a poet",
        intro="Good morning.\n\nHere is what our reporters found this week.",
        status=Issue.Status.SENT,
        sent_at=timezone.now(),
    )
    sections = ["news", "features", "analysis", "opinion"]
    IssueItem.objects.bulk_create(
        IssueItem(
            issue=issue,
            section=sections[n % 4],
            title=f"Story number {n}: the long headline",
            url=f"https://news.example.org/stories/{n}/",
            summary="What happened, and why it matters to the people who live here. " * 3,
            position=n,
        )
        for n in range(12)
    )
    return issue


def builder(issue: object) -> Callable[[int], bytes]:
    """A fresh `PrebuiltMessages` for the current settings: i -> recipient i's bytes."""
    from django.core.mail import get_connection

    from newsletter.rendering import render_issue
    from newsletter.sending.messages import MessageFactory, PrebuiltMessages

    connection = get_connection("newsroom.smtp.backend.SMTPBackend")
    factory = MessageFactory(issue=issue, rendered=render_issue(issue), connection=connection)  # type: ignore[arg-type]
    prebuilt = PrebuiltMessages(factory)

    def build(n: int) -> bytes:
        data = prebuilt.bytes_for(
            subscriber_id=n + 1, email=f"reader{n}@example.org", show_ask=n % 2 == 0
        )
        assert data is not None
        return data

    return build


def rate(build: Callable[[int], bytes], messages: int) -> float:
    build(0)  # warm: keys parsed, caches filled
    started = time.perf_counter()
    for n in range(messages):
        build(n)
    return messages / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dkim-") as tmp:
        folder = Path(tmp)
        setup_django(folder)
        import dkim
        from django.test import override_settings

        from newsroom.smtp import signing

        rsa_path, ed_path = write_keys(folder)
        issue = make_issue()
        rsa_only = {"DKIM_PRIVATE_KEY": str(rsa_path), "DKIM_SELECTOR": "s1",
                    "DKIM_DOMAIN": "news.example.org"}  # fmt: skip
        dual = {**rsa_only, "DKIM_ED25519_PRIVATE_KEY": str(ed_path),
                "DKIM_ED25519_SELECTOR": "s1-ed25519"}  # fmt: skip
        modes: dict[str, dict[str, str]] = {"unsigned": {}, "RSA 2048": rsa_only,
                                            "RSA 2048 + Ed25519": dual}  # fmt: skip
        builds = {}
        for name, overrides in modes.items():
            with override_settings(**overrides):
                builds[name] = builder(issue)
        with override_settings(**rsa_only):
            fast = signing.signer()
        assert fast is not None
        pure = signing.Signer(rsa=fast.rsa, ed25519=None, openssl=False)
        with override_settings(**dual):
            both = signing.signer()
        assert both is not None
        assert both.ed25519 is not None
        ed = both.ed25519
        unsigned = builds["unsigned"]

        def ed25519_only(n: int) -> bytes:
            data = unsigned(n)
            signer = dkim.DKIM(data, linesep=b"\r\n")
            return signer.sign(
                ed.selector.encode(), ed.domain.encode(), ed.seed_b64,
                signature_algorithm=b"ed25519-sha256", canonicalize=signing.CANONICALIZE,
            ) + data  # fmt: skip

        builds["Ed25519 alone"] = ed25519_only
        builds["RSA 2048, dkimpy's own RSA"] = lambda n: pure.sign(unsigned(n))
        modes["Ed25519 alone"] = modes["RSA 2048, dkimpy's own RSA"] = {}
        with override_settings(**dual):
            size = len(builds["RSA 2048 + Ed25519"](0))
        rates: dict[str, list[float]] = {name: [] for name in builds}
        for _ in range(args.rounds):
            for name, build in builds.items():
                count = args.messages if "dkimpy" not in name else max(args.messages // 20, 50)
                with override_settings(**modes[name]):  # signing reads the settings it runs under
                    rates[name].append(rate(build, count))
        base = statistics.median(rates["unsigned"])
        load = os.getloadavg()[0]
        print(f"message {size / 1024:.1f} KiB signed; {args.messages} messages a round, "
              f"{args.rounds} rounds interleaved, median; load average {load:.1f}")  # fmt: skip
        print(f"{'':28} {'messages/s':>11} {'vs unsigned':>12} {'signing per message':>20}")
        for name, values in rates.items():
            median = statistics.median(values)
            cost = (1 / median - 1 / base) * 1e6
            extra = f"{cost:>15.0f} us" if name != "unsigned" else f"{'(baseline)':>18}"
            print(f"{name:28} {median:>11.0f} {median / base:>11.2f}x {extra}")


if __name__ == "__main__":
    main()
