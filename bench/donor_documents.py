"""How long a donor waits for a receipt or a yearly statement as PDF (WeasyPrint), next to
rendering the same document as HTML alone (the template, the part that is not the PDF engine).

No database: the documents are rendered from in-memory rows, so the figures are the renderer's.

    python bench/donor_documents.py [--rounds 30]
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")


def _timed(action: Callable[[], object], rounds: int) -> tuple[float, float]:
    action()  # warm: fonts, templates
    laps = []
    for _ in range(rounds):
        start = time.perf_counter()
        action()
        laps.append((time.perf_counter() - start) * 1000)
    return statistics.median(laps), max(laps)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=30)
    rounds = parser.parse_args().rounds
    import django

    django.setup()
    from donations import documents
    from donations.models import Donation, Donor

    donor = Donor(pk=1, email="bench@example.org", name="Ada Reader")
    first = datetime(2026, 1, 5, tzinfo=UTC)
    payments = [
        Donation(pk=n + 1, donor=donor, amount=Decimal("12.50"), currency="usd",
                 frequency="monthly", status="paid", paid_at=first + timedelta(days=30 * n),
                 created_at=first)
        for n in range(12)
    ]  # fmt: skip
    receipt = documents.receipt_context(payments[0])
    lines = [documents.StatementLine(donation=p, net=p.amount) for p in payments]
    statement = documents.Statement(year=2026, currency="usd", lines=lines, total=Decimal("150.00"))
    yearly = documents.statement_context(donor=donor, statement=statement)
    print(f"load average {os.getloadavg()[0]:.1f}; {rounds} rounds each, median / max")
    for name, template, context in (
        ("receipt", "receipt", receipt),
        ("statement (12 gifts)", "statement", yearly),
    ):
        html = _timed(functools.partial(documents.html, template, context), rounds)
        pdf = _timed(functools.partial(documents.pdf, template, context), rounds)
        print(
            f"{name:22} HTML {html[0]:6.1f} / {html[1]:6.1f} ms   "
            f"PDF {pdf[0]:6.1f} / {pdf[1]:6.1f} ms   PDF/HTML {pdf[0] / html[0]:.0f}x"
        )


if __name__ == "__main__":
    main()
