"""Calendar arithmetic in a program's own time zone: local dates, day and period starts, month arithmetic, DST."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from punchcard.kit.calendar import (
    Period,
    add_months,
    end_of_local_day_after,
    local_date,
    period_start,
    start_of_local_day,
)

TALLINN = ZoneInfo("Europe/Tallinn")
UTC_ZONE = ZoneInfo("UTC")


@pytest.mark.parametrize(
    ("moment", "zone", "expected"),
    [
        (datetime(2024, 6, 7, 22, 30, tzinfo=UTC), TALLINN, date(2024, 6, 8)),  # 01:30 next day, summer time
        (datetime(2024, 6, 7, 22, 30, tzinfo=UTC), UTC_ZONE, date(2024, 6, 7)),
        (datetime(2024, 12, 31, 21, 59, tzinfo=UTC), TALLINN, date(2024, 12, 31)),  # 23:59, winter time
        (datetime(2024, 12, 31, 22, 0, tzinfo=UTC), TALLINN, date(2025, 1, 1)),
        (datetime(2024, 6, 8, 1, 30, tzinfo=timezone(timedelta(hours=3))), TALLINN, date(2024, 6, 8)),
    ],
)
def test_local_date(moment: datetime, zone: ZoneInfo, expected: date) -> None:
    assert local_date(moment, zone) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param(date(2024, 1, 15), datetime(2024, 1, 14, 22, 0, tzinfo=UTC), id="winter, UTC+2"),
        pytest.param(date(2024, 7, 15), datetime(2024, 7, 14, 21, 0, tzinfo=UTC), id="summer, UTC+3"),
        pytest.param(date(2024, 3, 31), datetime(2024, 3, 30, 22, 0, tzinfo=UTC), id="day summer time begins"),
        pytest.param(date(2024, 4, 1), datetime(2024, 3, 31, 21, 0, tzinfo=UTC), id="day after it begins"),
        pytest.param(date(2024, 10, 27), datetime(2024, 10, 26, 21, 0, tzinfo=UTC), id="day summer time ends"),
        pytest.param(date(2024, 10, 28), datetime(2024, 10, 27, 22, 0, tzinfo=UTC), id="day after it ends"),
    ],
)
def test_start_of_local_day(day: date, expected: datetime) -> None:
    start = start_of_local_day(day, TALLINN)
    assert start == expected
    assert start.utcoffset() == timedelta(0)  # returned in UTC


def test_dst_days_are_23_and_25_hours_long() -> None:
    def length(day: date) -> timedelta:
        return start_of_local_day(day + timedelta(days=1), TALLINN) - start_of_local_day(day, TALLINN)

    assert length(date(2024, 3, 31)) == timedelta(hours=23)
    assert length(date(2024, 10, 27)) == timedelta(hours=25)
    assert length(date(2024, 6, 1)) == timedelta(hours=24)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 1, 15), 1, date(2024, 2, 15)),
        (date(2024, 1, 15), 0, date(2024, 1, 15)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),  # clamped to the month's end, leap year
        (date(2023, 1, 31), 1, date(2023, 2, 28)),
        (date(2024, 5, 31), 1, date(2024, 6, 30)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 2, 29), 48, date(2028, 2, 29)),
        (date(2024, 12, 31), 2, date(2025, 2, 28)),  # across the year end
        (date(2024, 11, 30), 14, date(2026, 1, 30)),
        (date(2024, 1, 15), 24, date(2026, 1, 15)),
        (date(2024, 1, 15), -1, date(2023, 12, 15)),
        (date(2024, 3, 31), -1, date(2024, 2, 29)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2024, 1, 31), -13, date(2022, 12, 31)),
        (date(2025, 3, 15), -12, date(2024, 3, 15)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


SUNDAY_LATE_UTC = datetime(2024, 6, 9, 22, 30, tzinfo=UTC)  # Monday 10 June 01:30 in Tallinn
MONTH_END_LATE_UTC = datetime(2024, 5, 31, 22, 30, tzinfo=UTC)  # Saturday 1 June 01:30 in Tallinn
YEAR_END_LATE_UTC = datetime(2024, 12, 31, 22, 30, tzinfo=UTC)  # 1 January 2025 00:30 in Tallinn


@pytest.mark.parametrize(
    ("moment", "period", "zone", "expected"),
    [
        (SUNDAY_LATE_UTC, Period.DAY, TALLINN, datetime(2024, 6, 9, 21, 0, tzinfo=UTC)),
        (SUNDAY_LATE_UTC, Period.DAY, UTC_ZONE, datetime(2024, 6, 9, 0, 0, tzinfo=UTC)),
        (SUNDAY_LATE_UTC, Period.WEEK, TALLINN, datetime(2024, 6, 9, 21, 0, tzinfo=UTC)),  # a new ISO week
        (SUNDAY_LATE_UTC, Period.WEEK, UTC_ZONE, datetime(2024, 6, 3, 0, 0, tzinfo=UTC)),  # still last week's
        (MONTH_END_LATE_UTC, Period.MONTH, TALLINN, datetime(2024, 5, 31, 21, 0, tzinfo=UTC)),
        (MONTH_END_LATE_UTC, Period.MONTH, UTC_ZONE, datetime(2024, 5, 1, 0, 0, tzinfo=UTC)),
        (MONTH_END_LATE_UTC, Period.WEEK, TALLINN, datetime(2024, 5, 26, 21, 0, tzinfo=UTC)),  # Monday 27 May
        (YEAR_END_LATE_UTC, Period.YEAR, TALLINN, datetime(2024, 12, 31, 22, 0, tzinfo=UTC)),
        (YEAR_END_LATE_UTC, Period.YEAR, UTC_ZONE, datetime(2024, 1, 1, 0, 0, tzinfo=UTC)),
        (YEAR_END_LATE_UTC, Period.LIFETIME, TALLINN, None),
        # The month that began in winter time starts at 22:00 UTC even when it is summer now.
        (datetime(2024, 4, 15, 12, 0, tzinfo=UTC), Period.MONTH, TALLINN, datetime(2024, 3, 31, 21, 0, tzinfo=UTC)),
        (datetime(2024, 3, 31, 12, 0, tzinfo=UTC), Period.MONTH, TALLINN, datetime(2024, 2, 29, 22, 0, tzinfo=UTC)),
    ],
)
def test_period_start(moment: datetime, period: Period, zone: ZoneInfo, expected: datetime | None) -> None:
    assert period_start(moment, period, zone) == expected


@pytest.mark.parametrize(
    ("moment", "months", "days", "expected"),
    [
        pytest.param(
            datetime(2024, 3, 15, 10, 0, tzinfo=UTC), 0, 0, datetime(2024, 3, 15, 22, 0, tzinfo=UTC), id="same day"
        ),
        pytest.param(
            datetime(2024, 3, 15, 10, 0, tzinfo=UTC), 12, 0, datetime(2025, 3, 15, 22, 0, tzinfo=UTC), id="12 months"
        ),
        pytest.param(
            datetime(2024, 3, 30, 12, 0, tzinfo=UTC),
            0,
            1,
            datetime(2024, 3, 31, 21, 0, tzinfo=UTC),  # 31 Mar ends at 00:00 summer time
            id="into summer time",
        ),
        pytest.param(
            datetime(2024, 10, 26, 12, 0, tzinfo=UTC),
            0,
            1,
            datetime(2024, 10, 27, 22, 0, tzinfo=UTC),  # 27 Oct ends at 00:00 winter time
            id="into winter time",
        ),
        pytest.param(
            datetime(2024, 1, 31, 10, 0, tzinfo=UTC), 1, 0, datetime(2024, 2, 29, 22, 0, tzinfo=UTC), id="31 Jan + 1m"
        ),
        pytest.param(
            datetime(2024, 1, 31, 10, 0, tzinfo=UTC), 1, 1, datetime(2024, 3, 1, 22, 0, tzinfo=UTC), id="months, days"
        ),
        pytest.param(
            datetime(2024, 3, 15, 22, 30, tzinfo=UTC),  # 16 Mar 00:30 in Tallinn
            0,
            0,
            datetime(2024, 3, 16, 22, 0, tzinfo=UTC),
            id="the local day, not the UTC day",
        ),
        pytest.param(
            datetime(2024, 3, 16, 0, 30, tzinfo=timezone(timedelta(hours=2))),  # same instant, other offset
            0,
            0,
            datetime(2024, 3, 16, 22, 0, tzinfo=UTC),
            id="any offset in, same answer",
        ),
    ],
)
def test_end_of_local_day_after(moment: datetime, months: int, days: int, expected: datetime) -> None:
    assert end_of_local_day_after(moment, TALLINN, months=months, days=days) == expected
