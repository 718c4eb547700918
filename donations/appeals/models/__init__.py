"""The appeal readers see under every article, its experiments, and what was counted.

- `Appeal`: the message (heading, letter, sign-off, headline) and, per currency and frequency,
  the amounts offered, the preselected one, and the smallest and largest gift. One is live.
- `Experiment` / `Variant`: versions of the live appeal shown to shares of browsers.
- Counters: aggregate figures per variant and day; no row names a reader or a donor.
"""

from donations.appeals.models.appeal import AmountLimit, AmountOption, Appeal
from donations.appeals.models.counters import CountedCheckout, FoldLedger, VariantDay, VariantGifts
from donations.appeals.models.experiment import Experiment, Variant

__all__ = [
    "AmountLimit",
    "AmountOption",
    "Appeal",
    "CountedCheckout",
    "Experiment",
    "FoldLedger",
    "Variant",
    "VariantDay",
    "VariantGifts",
]
