"""`EMAIL_URL` to Django email settings: SMTP by default, any ESP through django-anymail.

smtp://user:password@host:587      plain SMTP (smtp+tls:// for STARTTLS, smtps:// for TLS),
                                   DKIM-signed when DKIM_* is set (newsroom.smtp)
file:///path/to/folder             one file per message batch, for a person to read
console://                         printed by the process that sends
memory://                          kept in django.core.mail.outbox (tests)
<esp>://<api key>@?<option>=<v>    django-anymail, e.g. postmark://TOKEN@ or
                                   mailgun://KEY@?sender_domain=mg.example.org
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

_DJANGO_BACKENDS = {
    "console": "django.core.mail.backends.console.EmailBackend",
    "file": "django.core.mail.backends.filebased.EmailBackend",
    "memory": "django.core.mail.backends.locmem.EmailBackend",
}
_SMTP_SCHEMES = {"smtp": (False, False), "smtp+tls": (True, False), "smtps": (False, True)}
# The anymail setting that holds the credential in the URL's user part, where it is not
# "<ESP>_API_KEY".
_ANYMAIL_KEY_NAMES = {"postmark": "SERVER_TOKEN", "amazon_ses": "ACCESS_KEY_ID"}


def email_settings_from_url(url: str) -> dict[str, Any]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme in _DJANGO_BACKENDS:
        settings: dict[str, Any] = {"EMAIL_BACKEND": _DJANGO_BACKENDS[scheme]}
        if scheme == "file":
            settings["EMAIL_FILE_PATH"] = unquote(parts.path)
        return settings
    if scheme in _SMTP_SCHEMES:
        use_tls, use_ssl = _SMTP_SCHEMES[scheme]
        return {
            "EMAIL_BACKEND": "newsroom.smtp.backend.SMTPBackend",
            "EMAIL_HOST": parts.hostname or "localhost",
            "EMAIL_PORT": parts.port or (465 if use_ssl else 587 if use_tls else 25),
            "EMAIL_HOST_USER": unquote(parts.username or ""),
            "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
            "EMAIL_USE_TLS": use_tls,
            "EMAIL_USE_SSL": use_ssl,
        }
    if not scheme.replace("_", "").isalnum():
        raise ValueError(f"EMAIL_URL has an unknown scheme {scheme!r}")
    esp = scheme.upper()
    anymail: dict[str, Any] = {}
    if parts.username:
        key_name = _ANYMAIL_KEY_NAMES.get(scheme, "API_KEY")
        anymail[f"{esp}_{key_name}"] = unquote(parts.username)
    if parts.password:
        anymail[f"{esp}_SECRET_KEY"] = unquote(parts.password)
    for name, value in parse_qsl(parts.query):
        anymail[f"{esp}_{name.upper()}"] = value
    return {"EMAIL_BACKEND": f"anymail.backends.{scheme}.EmailBackend", "ANYMAIL": anymail}
