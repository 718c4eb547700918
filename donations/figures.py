"""Figures for staff: this month's revenue (gross, refunded, disputed, lost in disputes, net;
per frequency and currency, and per currency), active recurring donors, monthly recurring
revenue, and new / cancelled recurring gifts per week. A handful of aggregate queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone

from donations import frequencies
from donations.models import Dispute, Donation, RecurringDonation

COUNTED = (Donation.Status.PAID, Donation.Status.REFUNDED, Donation.Status.DISPUTED)
ACTIVE = (RecurringDonation.Status.ACTIVE, RecurringDonation.Status.PAST_DUE)
OPEN, LOST = Dispute.Outcome.OPEN, Dispute.Outcome.LOST


@dataclass
class Revenue:
    """Payments of one frequency (or all: "") and currency; amounts in the currency."""

    frequency: str
    currency: str
    payments: int = 0
    gross: Decimal = Decimal("0")
    refunded: Decimal = Decimal("0")
    disputed: Decimal = Decimal("0")  # open disputes: neither revenue nor lost yet
    lost: Decimal = Decimal("0")  # disputes lost: the bank took it back

    @property
    def net(self) -> Decimal:
        return self.gross - self.refunded - self.disputed - self.lost

    @property
    def amount(self) -> Decimal:
        """Revenue: the net amount."""
        return self.net


@dataclass(frozen=True)
class Week:
    start: date
    new: int
    cancelled: int


@dataclass(frozen=True)
class Figures:
    month_start: datetime
    revenue: list[Revenue]  # per frequency and currency
    totals: list[Revenue]  # per currency
    active_donors: dict[str, int]  # recurring frequency -> donors, in the table's order
    mrr: dict[str, Decimal]  # currency -> monthly recurring revenue
    weeks: list[Week]

    @property
    def active_donor_rows(self) -> list[tuple[str, str, int]]:
        """(frequency, its label, donors) for the page: "Active monthly donors"."""
        return [
            (row.value, row.label, self.active_donors.get(row.value, 0))
            for row in frequencies.recurring()
        ]


def _month_start(now: datetime) -> datetime:
    local = timezone.localtime(now)
    return local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def revenue_since(start: datetime) -> list[Revenue]:
    """Per frequency and currency, the payments made since `start`: gross, refunded, disputed
    (open disputes, counted apart), lost in disputes, and net (gross less the other three).
    A payment marked disputed before disputes were recorded one by one (no dispute row)
    counts as disputed for its whole amount."""
    payments = Donation.objects.filter(status__in=COUNTED, paid_at__gte=start)
    found: dict[tuple[str, str], Revenue] = {}

    def row(frequency: str, currency: str) -> Revenue:
        return found.setdefault((frequency, currency), Revenue(frequency, currency))

    gross = payments.values("frequency", "currency").annotate(
        gross=Sum("amount"), refunded=Sum("amount_refunded"), payments=Count("pk")
    )
    for values in gross:
        revenue = row(values["frequency"], values["currency"])
        revenue.gross, revenue.refunded = values["gross"], values["refunded"]
        revenue.payments = values["payments"]
    disputes = (
        Dispute.objects.filter(donation__in=payments, outcome__in=(OPEN, LOST))
        .values("donation__frequency", "currency", "outcome")
        .annotate(total=Sum("amount"))
    )
    for values in disputes:
        revenue = row(values["donation__frequency"], values["currency"])
        if values["outcome"] == OPEN:
            revenue.disputed += values["total"]
        else:
            revenue.lost += values["total"]
    unrecorded = (
        payments.filter(status=Donation.Status.DISPUTED, disputes__isnull=True)
        .values("frequency", "currency")
        .annotate(total=Sum("amount"))
    )
    for values in unrecorded:
        row(values["frequency"], values["currency"]).disputed += values["total"]
    return [found[key] for key in sorted(found)]


def totals_by_currency(rows: list[Revenue]) -> list[Revenue]:
    """The rows summed per currency (frequency "")."""
    totals: dict[str, Revenue] = {}
    for row in rows:
        total = totals.setdefault(row.currency, Revenue("", row.currency))
        total.payments += row.payments
        total.gross += row.gross
        total.refunded += row.refunded
        total.disputed += row.disputed
        total.lost += row.lost
    return [totals[currency] for currency in sorted(totals)]


def active_recurring_donors() -> dict[str, int]:
    rows = (
        RecurringDonation.objects.filter(status__in=ACTIVE)
        .values("frequency")
        .annotate(donors=Count("donor", distinct=True))
    )
    found = {row["frequency"]: row["donors"] for row in rows}
    return {value: found.get(value, 0) for value in frequencies.recurring_values()}


def monthly_recurring_revenue() -> dict[str, Decimal]:
    """Each recurring gift's monthly equivalent (its amount / the months its period lasts, from
    the frequencies table: monthly / 1, annual / 12), per currency (no conversion)."""
    rows = (
        RecurringDonation.objects.filter(status__in=ACTIVE)
        .values("frequency", "currency")
        .annotate(total=Sum("amount"))
    )
    mrr: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        months = frequencies.get(row["frequency"]).months
        if months is None:  # a one-time frequency on a recurring gift: not a recurring revenue
            continue
        mrr[row["currency"]] += (row["total"] / months).quantize(Decimal("0.01"))
    return dict(sorted(mrr.items()))


def recurring_per_week(*, weeks: int, now: datetime) -> list[Week]:
    today = timezone.localtime(now).date()
    first = today - timedelta(days=today.weekday() + 7 * (weeks - 1))
    since = timezone.make_aware(datetime.combine(first, datetime.min.time()))

    def counts(field: str) -> dict[date, int]:
        rows = (
            RecurringDonation.objects.filter(**{f"{field}__gte": since})
            .annotate(week=TruncWeek(field))
            .values("week")
            .annotate(n=Count("pk"))
        )
        return {timezone.localtime(row["week"]).date(): row["n"] for row in rows}

    new, cancelled = counts("started_at"), counts("cancelled_at")
    starts = [first + timedelta(weeks=i) for i in range(weeks)]
    return [Week(start=s, new=new.get(s, 0), cancelled=cancelled.get(s, 0)) for s in starts]


def figures(*, now: datetime | None = None, weeks: int = 12) -> Figures:
    now = now or timezone.now()
    start = _month_start(now)
    revenue = revenue_since(start)
    return Figures(
        month_start=start,
        revenue=revenue,
        totals=totals_by_currency(revenue),
        active_donors=active_recurring_donors(),
        mrr=monthly_recurring_revenue(),
        weeks=recurring_per_week(weeks=weeks, now=now),
    )


# The chart's plot area inside the SVG: room on the left for the count axis and its title, below
# for the week labels and the axis title.
CHART_LEFT, CHART_RIGHT, CHART_TOP, CHART_BOTTOM = 64, 8, 24, 44


def _ticks(peak: int) -> list[int]:
    """Whole-number tick values from 0 to `peak` (at most five)."""
    step = max(1, -(-peak // 4))
    return list(range(0, peak + 1, step))


def chart(weeks: list[Week], *, width: int = 640, height: int = 240) -> dict[str, object]:
    """Coordinates for a server-rendered SVG bar chart: new (up) and cancelled (down) recurring
    gifts per week, with a labelled count axis (gifts) and week axis (week starting Monday)."""
    peak = max([1, *(w.new for w in weeks), *(w.cancelled for w in weeks)])
    top, bottom = CHART_TOP, height - CHART_BOTTOM
    middle = (top + bottom) / 2
    plot_width = width - CHART_LEFT - CHART_RIGHT
    slot = plot_width / max(len(weeks), 1)
    bar = max(slot * 0.35, 2)
    scale = (middle - top) / peak
    bars = []
    for i, week in enumerate(weeks):
        x = CHART_LEFT + i * slot + slot * 0.1
        up, down = week.new * scale, week.cancelled * scale
        bars.append(
            {
                "week": week,
                "x_new": round(x, 1),
                "x_cancelled": round(x + bar, 1),
                "y_new": round(middle - up, 1),
                "h_new": round(up, 1),
                "h_cancelled": round(down, 1),
                "label_x": round(x + bar, 1),
            }
        )
    ticks = [
        {"y": round(middle - value * scale, 1), "label": str(value)} for value in _ticks(peak)
    ] + [{"y": round(middle + value * scale, 1), "label": str(value)} for value in _ticks(peak)[1:]]
    return {
        "width": width, "height": height, "middle": round(middle, 1), "bar": round(bar, 1),
        "bars": bars, "ticks": ticks, "left": CHART_LEFT, "right": width - CHART_RIGHT,
        "top": top, "bottom": bottom, "week_label_y": bottom + 16, "x_title_y": height - 6,
        "y_title_x": 14, "y_title_y": round(middle, 1), "tick_label_x": CHART_LEFT - 6,
    }  # fmt: skip
