"""Which variant a browser sees: drawn once by the experiment's weights, then kept in the
`support_variant` cookie. The cookie holds only the variant's number; nothing is stored on
the server about the browser."""

from __future__ import annotations

import random
from collections.abc import Sequence

from django.http import HttpRequest

from donations.appeals.config import Arm, LiveAppeal, is_fresh, process_copy, reload
from donations.appeals.store import store, today

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


def live_appeal_for(
    request: HttpRequest, *, count: bool
) -> tuple[LiveAppeal | None, Arm | None, bool]:
    """The live appeal and this browser's variant (and whether it was drawn just now). With
    `count`, the variant's impression is counted in the same Redis round trip as the version
    check, so a running experiment costs the page no extra round trip."""
    copy = process_copy()
    arm, drawn = assign(request, copy) if copy is not None else (None, False)
    counted = count and arm is not None and copy is not None and copy.show_banner
    if counted and arm is not None:
        version = store().version_and_count(arm.id, "impressions", today())
    else:
        version = store().version()
    if is_fresh(version):
        return copy, arm, drawn
    live = reload(version)
    if live is None:
        return None, None, False
    again, drawn = assign(request, live)
    if count and again is not None and live.show_banner and not (counted and again == arm):
        store().count(again.id, "impressions", today())
    return live, again, drawn
