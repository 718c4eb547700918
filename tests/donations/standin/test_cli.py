"""The run command's stand-in: `python -m donations.standin`, with no Django."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import stripe

ROOT = Path(__file__).resolve().parents[3]


def test_cli_starts_prints_its_url_and_serves_the_api() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "donations.standin", "--port", "0", "--quiet",
         "--webhook-url", "http://127.0.0.1:9/stripe/webhook/", "--webhook-secret", "whsec_x"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        banner = process.stdout.readline()
        assert "DEMO MODE: no money moves" in banner
        url = banner.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        client = stripe.StripeClient(
            "sk_test_demo", base_addresses={"api": url}, max_network_retries=0
        )
        assert client.v1.customers.create().id.startswith("cus_")
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=10)
    assert process.returncode == 0, stderr


def test_stand_in_imports_no_django() -> None:
    code = "import sys, donations.standin.__main__; print('django' in sys.modules)"

    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "False"
