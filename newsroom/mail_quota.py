"""How many emails one address may be sent on request per hour, whoever asks for them.

"Email me a manage link", newsletter sign-up and "Remind me later" take any address typed into a
form, so without a cap anyone could have us write to a stranger without end. Every such email
takes a slot from one count per address (`MAIL_PER_ADDRESS_PER_HOUR`, 3 by default), shared by
the three, over a sliding hour: this clock hour's count plus the last hour's, weighted by how much
of the last hour still lies within sixty minutes (so a burst either side of a full hour cannot
double the cap). The count lives in the cache under a keyed hash of the
normalised address (HMAC-SHA256 with a key derived from SECRET_KEY): the cache never holds the
address, and without the secret nobody can test its keys against a list of addresses.

A request over the cap sends nothing, and its caller answers the reader with the same page as
ever, so the cap tells nobody whether an address is known.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.core.cache import cache
from django.utils.crypto import salted_hmac
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

WINDOW_SECONDS = 3600
KEY_SALT = "newsroom.mail-quota"


def mail_quota_key(email: str, *, hour: int | None = None) -> str:
    """The cache key counting mails to `email` in one clock hour: a keyed hash, never the
    address."""
    address = email.strip().lower()
    digest = salted_hmac(KEY_SALT, address, algorithm="sha256").hexdigest()
    hour = int(time.time()) // WINDOW_SECONDS if hour is None else hour
    return f"mail-quota:{digest}:{hour}"


def mail_quota_take(*, email: str, purpose: str) -> bool:
    """Take one of the sliding hour's slots for mailing `email`; False when none is left, or
    when the count cannot be read (the caller then sends nothing, and says nothing different)."""
    now = time.time()
    hour, into = divmod(now, WINDOW_SECONDS)
    current, previous = (
        mail_quota_key(email, hour=int(hour)),
        mail_quota_key(email, hour=int(hour) - 1),
    )
    try:
        counts = cache.get_many([current, previous])
        used = counts.get(previous, 0) * (1 - into / WINDOW_SECONDS) + counts.get(current, 0)
        if used + 1 > settings.MAIL_PER_ADDRESS_PER_HOUR:
            logger.info("mail quota reached: nothing sent", extra={"purpose": purpose})
            return False
        cache.add(current, 0, timeout=2 * WINDOW_SECONDS)
        try:
            cache.incr(current)
        except ValueError:  # evicted between add and incr: count this one afresh
            cache.set(current, 1, timeout=2 * WINDOW_SECONDS)
    except (RedisError, OSError):
        logger.warning("mail quota unreadable: nothing sent", extra={"purpose": purpose})
        return False
    return True
