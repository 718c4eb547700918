"""Which variant a browser sees: drawn once by the experiment's weights, then kept in the
`support_variant` cookie. The cookie holds only the variant's number; nothing is stored on
the server about the browser."""

from __future__ import annotations

import random
from collections.abc import Sequence

from django.http import HttpRequest

from appeals.config import Arm, LiveAppeal

VARIANT_COOKIE = "support_variant"
_system_random = random.SystemRandom()


def draw(arms: Sequence[Arm], rng: random.Random | None = None) -> Arm:
    """One arm, each with probability weight / sum of weights."""
    total = sum(arm.weight for arm in arms)
    point = (rng or _system_random).random() * total
    for arm in arms:
        point -= arm.weight
        if point < 0:
            return arm
    return arms[-1]


def cookie_variant(request: HttpRequest) -> int | None:
    raw = request.COOKIES.get(VARIANT_COOKIE, "")
    return int(raw) if raw.isdigit() and len(raw) < 12 else None


def assign(
    request: HttpRequest, live: LiveAppeal, rng: random.Random | None = None
) -> tuple[Arm | None, bool]:
    """(the browser's arm, whether it was drawn now and the cookie must be set)."""
    if not live.arms:
        return None, False
    kept = live.arm(cookie_variant(request))
    if kept is not None:
        return kept, False
    return draw(live.arms, rng), True
