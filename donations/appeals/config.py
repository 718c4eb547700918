"""The live appeal as the banner needs it: one immutable snapshot per process, rebuilt only
when staff changed something (the store's version token differs from the copy's).

Per page view that costs one Redis GET; the database is read only after an edit. When Redis
cannot be reached the copy is used and rebuilt from the database at most every
`LOCAL_SECONDS`.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.safestring import SafeString, mark_safe

from donations import frequencies
from donations.appeals.letter import clean_letter
from donations.appeals.models import AmountLimit, AmountOption, Appeal, Experiment, Variant
from donations.appeals.models.appeal import MINIMUM_PLACEHOLDER
from donations.appeals.store import store

LOCAL_SECONDS = 10.0
HEADLINE_FREQUENCY = "monthly"  # the headline shows the monthly minimum (issue #14)
Options = dict[str, dict[str, list[dict[str, str | bool]]]]  # frequency -> currency -> options


@dataclass(frozen=True)
class Copy:
    heading: str
    letter: SafeString
    sign_off: str
    headline: str  # with {minimum}
    default_frequency: str


@dataclass(frozen=True)
class Arm:
    """A variant of the running experiment, ready to render."""

    id: int
    name: str
    weight: int
    copy: Copy
    options: Options


@dataclass(frozen=True)
class LiveAppeal:
    appeal_id: int
    show_banner: bool
    copy: Copy
    options: Options
    limits: dict[tuple[str, str], tuple[Decimal, Decimal]]  # (currency, frequency) -> (min, max)
    experiment_id: int | None = None
    arms: tuple[Arm, ...] = field(default_factory=tuple)

    def arm(self, variant_id: int | None) -> Arm | None:
        return next((arm for arm in self.arms if arm.id == variant_id), None)

    def limit(self, currency: str, frequency: str) -> tuple[Decimal, Decimal] | None:
        return self.limits.get((currency, frequency))


def _options(rows: list[AmountOption]) -> Options:
    options: Options = {}
    for row in rows:
        options.setdefault(row.frequency, {}).setdefault(row.currency, []).append(
            {"amount": f"{row.amount.normalize():f}", "default": row.is_default}
        )
    return options


def _merged(appeal: Options, variant: Options) -> Options:
    """The appeal's amounts, with the variant's own for each frequency and currency it sets."""
    merged = {frequency: dict(by_currency) for frequency, by_currency in appeal.items()}
    for frequency, by_currency in variant.items():
        merged.setdefault(frequency, {}).update(by_currency)
    return merged


def _copy(appeal: Appeal, variant: Variant | None = None) -> Copy:
    def pick(name: str) -> str:
        own = getattr(variant, name, "") if variant is not None else ""
        return own or getattr(appeal, name)

    return Copy(
        heading=pick("heading"),
        letter=mark_safe(clean_letter(pick("letter"))),  # noqa: S308 - sanitised by nh3
        sign_off=pick("sign_off"),
        headline=pick("headline"),
        default_frequency=pick("default_frequency") or frequencies.preselected().value,
    )


def load_live_appeal() -> LiveAppeal | None:
    """From the database (a handful of queries)."""
    appeal = Appeal.objects.filter(is_live=True).first()
    if appeal is None:
        return None
    options = _options(list(AmountOption.objects.filter(appeal=appeal)))
    limits = {
        (row.currency, row.frequency): (row.minimum, row.maximum)
        for row in AmountLimit.objects.filter(appeal=appeal)
    }
    experiment = Experiment.objects.filter(appeal=appeal, status=Experiment.Status.RUNNING).first()
    arms: list[Arm] = []
    if experiment is not None:
        variants = list(experiment.variants.all())
        own = AmountOption.objects.filter(variant__in=variants)
        by_variant: dict[int, list[AmountOption]] = {}
        for row in own:
            by_variant.setdefault(row.variant_id or 0, []).append(row)
        arms = [
            Arm(v.pk, v.name, v.weight, _copy(appeal, v),
                _merged(options, _options(by_variant.get(v.pk, []))))
            for v in variants
        ]  # fmt: skip
    return LiveAppeal(
        appeal_id=appeal.pk,
        show_banner=appeal.show_banner,
        copy=_copy(appeal),
        options=options,
        limits=limits,
        experiment_id=experiment.pk if experiment is not None and arms else None,
        arms=tuple(arms),
    )


class _Copy:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.version: str | None = None
        self.loaded_at = 0.0
        self.value: LiveAppeal | None = None


_process = _Copy()


def is_fresh(version: str | None) -> bool:
    copy = _process
    if not copy.loaded_at:
        return False
    if version is None:  # the store is unavailable: the copy, reloaded now and then
        return time.monotonic() - copy.loaded_at < LOCAL_SECONDS
    return copy.version == version


def reload(version: str | None) -> LiveAppeal | None:
    with _process.lock:
        value = load_live_appeal()
        _process.value, _process.version, _process.loaded_at = value, version, time.monotonic()
    return value


def process_copy() -> LiveAppeal | None:
    """This process's copy as it is (possibly stale: check the version before trusting it)."""
    return _process.value if _process.loaded_at else None


def live_appeal() -> LiveAppeal | None:
    """The live appeal, from this process's copy unless staff changed it since."""
    version = store().version()
    return _process.value if is_fresh(version) else reload(version)


def forget_process_copy() -> None:
    """Tests: drop this process's copy."""
    _process.version, _process.loaded_at, _process.value = None, 0.0, None


def headline_text(headline: str, minimum: str) -> str:
    return headline.replace(MINIMUM_PLACEHOLDER, minimum)
