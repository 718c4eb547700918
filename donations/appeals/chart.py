"""Coordinates for a server-rendered SVG line chart: each variant's cumulative conversion
(gifts per 100 impressions) by day, with a labelled percentage axis, day labels and a legend."""

from __future__ import annotations

from datetime import date

from donations.appeals.figures import VariantFigures, days_between

COLOURS = ("#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f")
WIDTH, HEIGHT = 680, 260
LEFT, RIGHT, TOP, BOTTOM = 64, 16, 16, 48
TICKS = 4


def _nice_top(peak: float) -> float:
    for top in (0.5, 1, 2, 2.5, 5, 10, 20, 25, 50, 100):
        if peak <= top:
            return float(top)
    return 100.0


def _cumulative(figures: VariantFigures, days: list[date]) -> list[float]:
    shown = gifts = 0
    rates = []
    for day in days:
        impressions, given = figures.daily.get(day, (0, 0))
        shown, gifts = shown + impressions, gifts + given
        rates.append(100 * gifts / shown if shown else 0.0)
    return rates


def conversion_chart(figures: list[VariantFigures]) -> dict[str, object]:
    days = days_between(figures)
    series = [(f, _cumulative(f, days)) for f in figures]
    top = _nice_top(max([0.0, *(rate for _, rates in series for rate in rates)]))
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(days) - 1, 1)

    def x(index: int) -> float:
        return round(LEFT + (index * step if len(days) > 1 else plot_w / 2), 1)

    def y(rate: float) -> float:
        return round(TOP + plot_h - rate / top * plot_h, 1)

    every = max(1, len(days) // 6)
    lines = [
        {
            "name": f.variant.name,
            "colour": COLOURS[n % len(COLOURS)],
            "points": " ".join(f"{x(i)},{y(rate)}" for i, rate in enumerate(rates)),
            "dots": [{"x": x(i), "y": y(rate), "day": days[i], "rate": round(rate, 2)}
                     for i, rate in enumerate(rates)],
            "legend_y": TOP + 14 * n + 10,
        }
        for n, (f, rates) in enumerate(series)
    ]  # fmt: skip
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "left": LEFT,
        "right": WIDTH - RIGHT,
        "top": TOP,
        "bottom": TOP + plot_h,
        "middle_x": LEFT + plot_w / 2,
        "middle_y": TOP + plot_h / 2,
        "y_ticks": [
            {"y": y(top * k / TICKS), "label": f"{top * k / TICKS:g}%"} for k in range(TICKS + 1)
        ],
        "x_ticks": [
            {"x": x(i), "label": day.strftime("%d %b")}
            for i, day in enumerate(days)
            if i % every == 0 or i == len(days) - 1
        ],
        "lines": lines,
        "legend_x": WIDTH - RIGHT - 150,
        "empty": not days,
    }
