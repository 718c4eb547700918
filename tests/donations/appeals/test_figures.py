"""The 95% interval of a conversion rate (Wilson score), against published values."""

from __future__ import annotations

import pytest

from donations.appeals.figures import wilson


@pytest.mark.parametrize(
    ("successes", "trials", "low", "high"),
    [
        (5, 10, 0.2366, 0.7634),
        (0, 10, 0.0, 0.2775),
        (10, 10, 0.7225, 1.0),
        (81, 263, 0.2553, 0.3662),
    ],
)
def test_wilson_interval_matches_known_values(
    successes: int, trials: int, low: float, high: float
) -> None:
    found = wilson(successes, trials)
    assert found == pytest.approx((low, high), abs=1e-4)


def test_no_trials_is_an_empty_interval() -> None:
    assert wilson(0, 0) == (0.0, 0.0)
