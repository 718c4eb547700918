"""Every email's Message-ID, and the name our SMTP client greets servers with (EHLO, which a
receiving server writes into its Received header), name this site's domain (from SITE_URL),
never the machine's.

Django gives a message without a Message-ID `make_msgid(domain=DNS_NAME)`, where DNS_NAME is the
host's fully qualified name (`socket.getfqdn()`): an internal host name reaches every recipient
and differs from one worker machine to the next. Django has no setting for either, so `install()`
(run once, from the app's `ready()`) points the name its message and SMTP modules read at
`SiteDomain`, which reads SITE_URL each time. The newsletter's own Message-IDs take
`site_domain()` too.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import message as django_message
from django.core.mail.backends import smtp as django_smtp
from django.utils.encoding import punycode


def site_domain() -> str:
    """The host of SITE_URL, in ASCII (punycode) as mail headers need."""
    return punycode(urlsplit(settings.SITE_URL).hostname or "localhost")


class SiteDomain:
    """Stands in for Django's `CachedDnsName` where messages get their Message-ID."""

    def __str__(self) -> str:
        return site_domain()

    def get_fqdn(self) -> str:
        return site_domain()


def install() -> None:
    django_message.DNS_NAME = SiteDomain()  # type: ignore[attr-defined]
    django_smtp.DNS_NAME = SiteDomain()  # type: ignore[attr-defined]
