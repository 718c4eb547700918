"""The donations app's signed links: a donor's manage link (short-lived, or a week in a "fix
your card" email that may be read days later) and the stop link of a "remind me later" email.

Each is a `SignedLink` with its own purpose; links mailed before the opaque format (signed
with `django.core.signing` under the old salts) are still read until they expire.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from django.conf import settings
from django.urls import reverse

from newsroom.errors import ExpiredLink, InvalidLink
from newsroom.signed_links import SignedLink, legacy_reader, token_url


def _manage_max_age() -> int:
    return int(settings.DONATIONS_MANAGE_LINK_MAX_AGE)


def _past_due_max_age() -> int:
    return int(settings.DONATIONS_PAST_DUE_LINK_MAX_AGE)


def _field(name: str) -> Callable[[object], int]:
    def decode(value: object) -> int:
        if not isinstance(value, Mapping):
            raise TypeError("not a mapping")
        return int(value[name])

    return decode


manage_link = SignedLink(
    "donations.manage",
    max_age=_manage_max_age,
    legacy=legacy_reader(
        salt="donations.manage-link", max_age=_manage_max_age, decode=_field("donor")
    ),
)
past_due_manage_link = SignedLink(
    "donations.manage.past-due",
    max_age=_past_due_max_age,
    legacy=legacy_reader(
        salt="donations.manage-link.past-due", max_age=_past_due_max_age, decode=_field("donor")
    ),
)
reminder_stop_link = SignedLink(
    "donations.reminder-stop",
    legacy=legacy_reader(
        salt="donations.reminder-opt-out", max_age=lambda: None, decode=_field("reminder")
    ),
)


def manage_url(*, donor_id: int, past_due: bool = False) -> str:
    link = past_due_manage_link if past_due else manage_link
    return token_url("donations:manage_open", link.make(donor_id))


def _read_manage(read: Callable[[SignedLink], int]) -> int:
    """Read with either kind of manage link; `ExpiredLink` wins over `InvalidLink`."""
    expired: ExpiredLink | None = None
    for link in (manage_link, past_due_manage_link):
        try:
            return read(link)
        except ExpiredLink as error:
            expired = error
        except InvalidLink:
            continue
    raise expired or InvalidLink(extra={"purpose": "donations.manage"})


def manage_token_read(token: str) -> int:
    """The donor id a manage link (either kind) names; `ExpiredLink` or `InvalidLink`."""
    return _read_manage(lambda link: link.read(token))


def manage_token_read_expired(token: str) -> int:
    """The donor id a genuine manage link names, even expired, for up to
    `DONATIONS_MANAGE_LINK_RENEW_DAYS` past its age (to mail that donor a fresh one)."""
    within = int(settings.DONATIONS_MANAGE_LINK_RENEW_DAYS) * 86400
    return _read_manage(lambda link: link.read_expired(token, within=within))


def manage_page_path(token: str) -> str:
    """The donor's page for a token (a path: for redirects and forms on our own pages)."""
    return reverse("donations:manage_open", kwargs={"token": token})


def reminder_stop_url(*, reminder_id: int) -> str:
    return token_url("donations:reminder_opt_out", reminder_stop_link.make(reminder_id))
