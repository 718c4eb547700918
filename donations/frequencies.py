"""How often a reader gives: one table, read by everything else.

Each row names a frequency (the value stored and posted by the form), its Stripe recurring
interval and interval count (none for a one-time gift), the words that show it, how many
months one period lasts (for the monthly-equivalent figures) and the Checkout product name.
The form's choices, the models' choices and column width, the Checkout price's recurring
interval, a Stripe price's interval read back, the staff figures, the emails and the admin
filters all come from here. A Stripe interval no row names (`week`, or `month` every 3 months
while there is no quarterly row) is an `UnknownFrequency`, never a near guess.

Adding a frequency, e.g. quarterly:

1. add its row to `ROWS` (`Frequency("quarterly", "Quarterly", adverb="quarterly",
   gift_words="quarterly gift", stripe_interval=("month", 3), months=Decimal(3),
   product_name="Quarterly support for {site}")`);
2. `python manage.py makemigrations donations` (the stored choices and, for a longer name,
   the column width);
3. give it a minimum: `DONATIONS_MINIMUM_QUARTERLY` in `newsroom/settings.py`
   (`DONATIONS_MINIMUMS`) and `.env.example` (a test fails until every row has one);
4. optionally, staff add its preset amounts in the admin (*Amount presets*).

`tests/donations/test_frequencies.py` builds the table with a quarterly row and shows each
consumer following it.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from newsroom.errors import ApplicationError


class UnknownFrequency(ApplicationError):
    """A frequency name or a Stripe interval that no row of the table names."""

    default_message = "This gift's frequency is not one we offer."


@dataclass(frozen=True)
class Frequency:
    value: str  # stored in the database, posted by the form, sent as Checkout metadata
    label: str  # "Monthly": choices, admin filters, receipts
    adverb: str  # "monthly": "give once, monthly or annually"
    gift_words: str  # "monthly gift": "Your monthly gift of 5.00 USD", "The smallest ..."
    # Stripe's price `recurring` (interval, interval_count); None for a one-time gift
    stripe_interval: tuple[str, int] | None = None
    months: Decimal | None = None  # months one period lasts; a monthly equivalent divides by it
    product_name: str = ""  # the Checkout line's product, "{site}" is the site's name
    preselected: bool = False  # chosen when the support form opens

    @property
    def is_recurring(self) -> bool:
        return self.stripe_interval is not None


ONCE = "once"

ROWS: tuple[Frequency, ...] = (
    Frequency(
        ONCE, "Once", adverb="once", gift_words="gift", product_name="One-time gift to {site}"
    ),
    Frequency(
        "monthly", "Monthly", adverb="monthly", gift_words="monthly gift",
        stripe_interval=("month", 1), months=Decimal(1), product_name="Monthly support for {site}",
        preselected=True,
    ),
    Frequency(
        "annual", "Annual", adverb="annually", gift_words="annual gift",
        stripe_interval=("year", 1), months=Decimal(12), product_name="Annual support for {site}",
    ),
)  # fmt: skip


class FrequencyTable:
    """The rows with their indexes; every question about a frequency is asked here."""

    def __init__(self, rows: tuple[Frequency, ...]) -> None:
        self.rows = rows
        self._by_value = {row.value: row for row in rows}
        self._by_interval = {row.stripe_interval: row for row in rows if row.stripe_interval}
        if len(self._by_value) != len(rows) or len(self._by_interval) != len(self.recurring()):
            raise ValueError("each frequency needs its own name and its own Stripe interval")
        if [row.is_recurring for row in rows].count(False) != 1:
            raise ValueError("exactly one frequency is one-time")
        if any((row.months is None) == row.is_recurring for row in rows):
            raise ValueError("a recurring frequency, and only one, says how many months it lasts")
        if [row.preselected for row in rows].count(True) != 1:
            raise ValueError("exactly one frequency is preselected")

    def get(self, value: str) -> Frequency:
        try:
            return self._by_value[value]
        except (KeyError, TypeError):
            raise UnknownFrequency(extra={"frequency": str(value)[:40]}) from None

    def find(self, value: str) -> Frequency | None:
        return self._by_value.get(value)

    def for_interval(self, interval: str, interval_count: int) -> Frequency:
        """The recurring frequency of a Stripe price's `recurring` (interval, count)."""
        try:
            return self._by_interval[(interval, interval_count)]
        except KeyError:
            extra = {"interval": str(interval)[:20], "interval_count": interval_count}
            raise UnknownFrequency(extra=extra) from None

    def recurring(self) -> list[Frequency]:
        return [row for row in self.rows if row.is_recurring]

    def choices(self) -> list[tuple[str, str]]:
        return [(row.value, row.label) for row in self.rows]

    def max_length(self) -> int:
        return max(len(row.value) for row in self.rows)

    def preselected(self) -> Frequency:
        return next(row for row in self.rows if row.preselected)

    def adverbs(self) -> str:
        """ "once, monthly or annually"."""
        words = [row.adverb for row in self.rows]
        return f"{', '.join(words[:-1])} or {words[-1]}" if len(words) > 1 else words[0]


TABLE = FrequencyTable(ROWS)

# Module-level questions read `TABLE` when asked (a test can swap in a larger table).


def get(value: str) -> Frequency:
    """The row named `value`; `UnknownFrequency` for any other."""
    return TABLE.get(value)


def find(value: str) -> Frequency | None:
    return TABLE.find(value)


def for_interval(interval: str, interval_count: int) -> Frequency:
    return TABLE.for_interval(interval, interval_count)


def recurring() -> list[Frequency]:
    return TABLE.recurring()


def recurring_values() -> list[str]:
    return [row.value for row in TABLE.recurring()]


def choices() -> list[tuple[str, str]]:
    return TABLE.choices()


def preselected() -> Frequency:
    return TABLE.preselected()


def adverbs() -> str:
    return TABLE.adverbs()


# For model fields (fixed when the models load; a new row needs its migration, see above).
CHOICES = TABLE.choices()
MAX_LENGTH = TABLE.max_length()
