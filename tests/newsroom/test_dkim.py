"""DKIM: every message the site sends over SMTP is signed, and the signature verifies with
dkimpy's verifier against the records `manage.py dkim_dns` prints."""

from __future__ import annotations

import io
import re
from pathlib import Path

import dkim
import pytest
import time_machine
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.test import override_settings

from newsroom.smtp import signing
from tests.dkim_keys import DOMAIN, ED_SELECTOR, SELECTOR, DkimSetup
from tests.smtp_server import SMTPServer

UNSUBSCRIBE = "<https://news.example.org/newsletter/unsubscribe/abc/>"


def _send_one(smtp_server: SMTPServer) -> bytes:
    message = mail.EmailMultiAlternatives(
        subject="This week: the port, the budget, the river",
        body="Plain text body.\n",
        to=["reader@example.org"],
        reply_to=["editor@news.example.org"],
        headers={
            "List-Unsubscribe": UNSUBSCRIBE,
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": '"Ledger newsletter" <newsletter.news.example.org>',
        },
    )
    message.attach_alternative("<p>HTML body</p>", "text/html")
    assert message.send() == 1
    [received] = smtp_server.messages
    return received.data


def _signatures(data: bytes) -> list[dict[bytes, bytes]]:
    verifier = dkim.DKIM(data)
    return [
        dkim.util.parse_tag_value(value)
        for name, value in verifier.headers
        if name.lower() == b"dkim-signature"
    ]


def test_a_message_sent_over_smtp_carries_an_rsa_and_an_ed25519_signature_that_verify(
    dkim_setup: DkimSetup, smtp_server: SMTPServer
) -> None:
    data = _send_one(smtp_server)
    dnsfunc = dkim_setup.dnsfunc()
    signatures = _signatures(data)
    assert [(s[b"a"], s[b"s"], s[b"d"]) for s in signatures] == [
        (b"ed25519-sha256", ED_SELECTOR.encode(), DOMAIN.encode()),
        (b"rsa-sha256", SELECTOR.encode(), DOMAIN.encode()),
    ]
    verifier = dkim.DKIM(data)
    assert verifier.verify(idx=0, dnsfunc=dnsfunc)
    assert verifier.verify(idx=1, dnsfunc=dnsfunc)
    assert dkim.verify(data, dnsfunc=dnsfunc)  # dkimpy's one-call verifier (first signature)


def test_the_signature_covers_the_unsubscribe_headers_and_over_signs_from(
    dkim_setup: DkimSetup, smtp_server: SMTPServer
) -> None:
    data = _send_one(smtp_server)
    for signature in _signatures(data):
        signed = [h.strip() for h in signature[b"h"].split(b":")]
        for header in (
            b"from", b"to", b"subject", b"date", b"message-id", b"mime-version",
            b"content-type", b"reply-to", b"list-id", b"list-unsubscribe",
            b"list-unsubscribe-post",
        ):  # fmt: skip
            assert header in signed, header
        assert signed.count(b"from") == 2  # one more than the message has
        assert signed.count(b"list-unsubscribe") == 2
        assert signed.count(b"list-unsubscribe-post") == 2
        assert signature[b"c"] == b"relaxed/simple"


def test_a_changed_subject_or_an_added_unsubscribe_header_breaks_the_signature(
    dkim_setup: DkimSetup, smtp_server: SMTPServer
) -> None:
    data = _send_one(smtp_server)
    dnsfunc = dkim_setup.dnsfunc()
    altered = data.replace(b"the port, the budget", b"the port, the bribe")
    assert altered != data
    assert not dkim.verify(altered, dnsfunc=dnsfunc)
    head, _, body = data.partition(b"\r\n\r\n")
    added = head + b"\r\nList-Unsubscribe: <https://attacker.example/>\r\n\r\n" + body
    assert not dkim.DKIM(added).verify(idx=1, dnsfunc=dnsfunc)


def test_receipts_and_confirmations_go_through_the_signing_backend(
    dkim_setup: DkimSetup, smtp_server: SMTPServer
) -> None:
    """Any `send_mail` (what receipts and confirmations use) is signed too."""
    mail.send_mail("Your receipt", "Thank you.", None, ["donor@example.org"])
    [received] = smtp_server.messages
    assert dkim.verify(received.data, dnsfunc=dkim_setup.dnsfunc())


def test_without_dkim_settings_nothing_is_signed(smtp_server: SMTPServer) -> None:
    data = _send_one(smtp_server)
    assert b"DKIM-Signature" not in data


@time_machine.travel("2026-11-27 07:00:00 +0000", tick=False)
def test_openssl_rsa_gives_the_same_signature_as_dkimpys_own_rsa(dkim_setup: DkimSetup) -> None:
    message = b"From: a@news.example.org\r\nTo: b@example.org\r\nSubject: s\r\n\r\nbody\r\n"
    fast = signing.signer()
    assert fast is not None
    assert fast.openssl
    pure = signing.Signer(rsa=fast.rsa, ed25519=None, openssl=False)
    fast_rsa_only = signing.Signer(rsa=fast.rsa, ed25519=None, openssl=True)
    assert fast_rsa_only.sign(message) == pure.sign(message)
    assert dkim.verify(pure.sign(message), dnsfunc=dkim_setup.dnsfunc())


def test_dkim_dns_prints_one_txt_record_per_key(dkim_setup: DkimSetup) -> None:
    records = dkim_setup.records()
    assert set(records) == {
        f"{SELECTOR}._domainkey.{DOMAIN}.".encode(),
        f"{ED_SELECTOR}._domainkey.{DOMAIN}.".encode(),
    }
    rsa_value = records[f"{SELECTOR}._domainkey.{DOMAIN}.".encode()]
    assert rsa_value.startswith(b"v=DKIM1; k=rsa; p=MII")
    assert records[f"{ED_SELECTOR}._domainkey.{DOMAIN}.".encode()].startswith(
        b"v=DKIM1; k=ed25519; p="
    )
    out = io.StringIO()
    call_command("dkim_dns", stdout=out)
    # A 2048-bit key does not fit one 255-character DNS string: it is split, every piece quoted.
    rsa_line = next(line for line in out.getvalue().splitlines() if "k=rsa" in line)
    assert all(len(piece) <= 255 for piece in re.findall(r'"([^"]*)"', rsa_line))
    assert "warning" not in out.getvalue()


def test_dkim_dns_warns_when_the_from_domain_does_not_align(dkim_setup: DkimSetup) -> None:
    out = io.StringIO()
    with override_settings(DEFAULT_FROM_EMAIL="news@elsewhere.example.net"):
        call_command("dkim_dns", stdout=out)
    assert "DMARC needs the DKIM domain to match the From domain" in out.getvalue()


def test_dkim_dns_makes_new_keys_that_sign_and_verify(tmp_path: Path) -> None:
    out = io.StringIO()
    with override_settings(DKIM_SELECTOR="s1", DKIM_DOMAIN=DOMAIN, DKIM_PRIVATE_KEY=""):
        call_command("dkim_dns", "--new-keys", str(tmp_path / "keys"), stdout=out)
    rsa_path = tmp_path / "keys" / "dkim-rsa.pem"
    ed_path = tmp_path / "keys" / "dkim-ed25519.pem"
    assert rsa_path.stat().st_mode & 0o777 == 0o600
    assert f"DKIM_PRIVATE_KEY={rsa_path}" in out.getvalue()
    with override_settings(
        DKIM_SELECTOR="s1", DKIM_DOMAIN=DOMAIN, DKIM_PRIVATE_KEY=str(rsa_path),
        DKIM_ED25519_PRIVATE_KEY=str(ed_path), DKIM_ED25519_SELECTOR="s1-ed25519",
    ):  # fmt: skip
        signed = signing.sign(b"From: a@news.example.org\r\nSubject: s\r\n\r\nbody\r\n")
        records = DkimSetup(rsa_path=rsa_path, ed_path=ed_path).dnsfunc()
        assert dkim.DKIM(signed).verify(idx=0, dnsfunc=records)
        assert dkim.DKIM(signed).verify(idx=1, dnsfunc=records)


def test_an_ed25519_seed_in_dknewkey_format_is_accepted(dkim_setup: DkimSetup) -> None:
    from cryptography.hazmat.primitives import serialization

    signer = signing.signer()
    assert signer is not None
    assert signer.ed25519 is not None
    seed = signer.ed25519.seed_b64.decode()
    with override_settings(DKIM_ED25519_PRIVATE_KEY=seed):
        again = signing.signer()
    assert again is not None
    assert again.ed25519 is not None
    raw = serialization.PublicFormat.Raw
    assert again.ed25519.key.public_key().public_bytes(
        serialization.Encoding.Raw, raw
    ) == signer.ed25519.key.public_key().public_bytes(serialization.Encoding.Raw, raw)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"DKIM_SELECTOR": ""}, "needs DKIM_SELECTOR and DKIM_DOMAIN"),
        ({"DKIM_ED25519_SELECTOR": ""}, "needs DKIM_ED25519_SELECTOR"),
        ({"DKIM_ED25519_SELECTOR": SELECTOR}, "must differ"),
        ({"DKIM_PRIVATE_KEY": "/nonexistent/key.pem"}, "neither a PEM key nor the path"),
        ({"DKIM_PRIVATE_KEY": "-----BEGIN PRIVATE KEY-----\\nAAAA\\n-----END PRIVATE KEY-----"},
         "not an unencrypted PEM private key"),
    ],
)  # fmt: skip
def test_a_dkim_setting_that_cannot_work_is_a_clear_configuration_error(
    dkim_setup: DkimSetup, overrides: dict[str, str], message: str
) -> None:
    with override_settings(**overrides), pytest.raises(ImproperlyConfigured, match=message):
        signing.sign(b"From: a@news.example.org\r\n\r\nbody\r\n")


def test_the_ed25519_key_is_refused_where_the_rsa_key_belongs(dkim_setup: DkimSetup) -> None:
    with (
        override_settings(DKIM_PRIVATE_KEY=str(dkim_setup.ed_path)),
        pytest.raises(ImproperlyConfigured, match="not an RSA key"),
    ):
        signing.sign(b"From: a@news.example.org\r\n\r\nbody\r\n")


def test_manage_py_check_names_a_dkim_key_that_cannot_sign(dkim_setup: DkimSetup) -> None:
    from django.core.management.base import SystemCheckError

    call_command("check")  # the configured keys load
    with (
        override_settings(DKIM_PRIVATE_KEY="/nonexistent/key.pem"),
        pytest.raises(SystemCheckError, match=r"newsroom\.E001"),
    ):
        call_command("check")
