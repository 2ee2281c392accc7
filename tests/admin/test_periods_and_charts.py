"""Pure pieces of the dashboard: a period is cut into days, ISO weeks or months of the program's time zone, and chart
geometry puts round-numbered ticks and bars of the right height on the canvas."""

from __future__ import annotations

import itertools
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from punchcard.admin.charts import BOTTOM, HEIGHT, TOP, bar_chart, line_chart, nice_step
from punchcard.analytics.domain import Grain, Period, buckets, ratio

TALLINN = ZoneInfo("Europe/Tallinn")


@pytest.mark.parametrize(
    ("first", "last", "grain"),
    [
        (date(2026, 6, 1), date(2026, 6, 1), Grain.DAY),
        (date(2026, 6, 1), date(2026, 7, 1), Grain.DAY),
        (date(2026, 6, 1), date(2026, 7, 2), Grain.WEEK),
        (date(2026, 1, 1), date(2026, 7, 1), Grain.WEEK),
        (date(2026, 1, 1), date(2026, 7, 2), Grain.MONTH),
    ],
)
def test_the_grain_follows_the_length_of_the_period(first: date, last: date, grain: Grain) -> None:
    assert Period(first, last, TALLINN).grain is grain


def test_weeks_are_iso_weeks_clipped_to_the_period_in_local_time() -> None:
    cut = buckets(Period(date(2026, 6, 3), date(2026, 7, 20), TALLINN))
    assert [b.label for b in cut] == [f"2026-W{n}" for n in range(23, 31)]
    assert (cut[0].first, cut[0].last) == (date(2026, 6, 3), date(2026, 6, 7))  # Wednesday to Sunday
    assert (cut[-1].first, cut[-1].last) == (date(2026, 7, 20), date(2026, 7, 20))
    assert cut[0].start == datetime.fromisoformat("2026-06-02T21:00:00+00:00")  # midnight in Tallinn (UTC+3)
    assert all(earlier.end == later.start for earlier, later in itertools.pairwise(cut))


def test_months_follow_the_calendar_across_a_daylight_saving_change() -> None:
    cut = buckets(Period(date(2026, 1, 15), date(2026, 12, 31), TALLINN))
    assert [b.label for b in cut] == [f"2026-{m:02d}" for m in range(1, 13)]
    assert cut[2].start == datetime.fromisoformat("2026-02-28T22:00:00+00:00")  # 1 March, winter time (UTC+2)
    assert cut[3].start == datetime.fromisoformat("2026-03-31T21:00:00+00:00")  # 1 April, summer time (UTC+3)
    assert cut[-1].end == datetime.fromisoformat("2026-12-31T22:00:00+00:00")


@pytest.mark.parametrize(
    ("first", "last"), [(date(2026, 6, 2), date(2026, 6, 1)), (date(2020, 1, 1), date(2026, 1, 1))]
)
def test_a_backwards_or_overlong_period_is_refused(first: date, last: date) -> None:
    with pytest.raises(ValueError, match="the period"):
        Period(first, last, TALLINN)


def test_a_ratio_of_nothing_is_not_zero_but_undefined() -> None:
    assert ratio(1, 4) == ratio(25, 100)
    assert ratio(0, 0) is None


@pytest.mark.parametrize(("span", "step"), [(0, 1), (3, 1), (10, 5), (95, 50), (1234, 500), (980, 500), (7, 2)])
def test_axis_steps_are_round_numbers(span: int, step: int) -> None:
    assert nice_step(span) == step


def test_bars_stand_on_the_baseline_in_proportion_to_their_values() -> None:
    chart = bar_chart("points", "Points", ["W1", "W2"], [("Issued", [100, 50]), ("Spent", [0, 25])])
    plot = HEIGHT - TOP - BOTTOM
    issued = [bar for bar in chart.bars if bar.series == 0]
    assert [bar.height for bar in issued] == [plot, plot / 2]
    assert all(round(bar.y + bar.height, 1) == chart.baseline for bar in chart.bars)
    assert [tick.label for tick in chart.y_ticks] == ["0", "50", "100"]
    assert chart.values == ((100, 50), (0, 25))


def test_a_line_chart_may_dip_below_zero() -> None:
    chart = line_chart("outstanding", "Outstanding", ["a", "b", "c"], "Outstanding", [-20, 0, 40])
    assert [tick.label for tick in chart.y_ticks] == ["-20", "0", "20", "40"]
    assert len(chart.line.split()) == 3
