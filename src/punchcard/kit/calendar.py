"""Calendar arithmetic in a program's own time zone (pure: no clock, time always comes in).

Loyalty periods ("3 a calendar month", "expire 12 months after earning", "this calendar year") are local to the
program: a review posted at 00:30 in Tallinn on the 1st belongs to the new month even though it is still the previous
month in UTC. Every function here takes an aware ``datetime`` and a zone and returns aware UTC datetimes.
"""

from calendar import isleap, monthrange
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Period(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"
    YEAR = "year"
    LIFETIME = "lifetime"


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def start_of_local_day(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant at which ``day`` begins in ``zone`` (correct across DST changes)."""
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


def add_months(day: date, months: int) -> date:
    """Same day-of-month ``months`` later, clamped to the month's end (31 Jan + 1 month = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, monthrange(year, month)[1]))


def anniversary(day: date, year: int) -> date:
    """The date ``day`` comes round on in ``year`` (a birthday, an enrolment's anniversary): the same month and day, and
    29 February on 28 February in common years. The one rule of it: ``anniversaries_on`` is its inverse."""
    if (day.month, day.day) == (2, 29) and not isleap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def anniversaries_on(day: date) -> list[tuple[int, int]]:
    """The (month, day) dates that come round on ``day`` (``anniversary``): its own, and 29 February on 28 February of
    a common year."""
    found = [(day.month, day.day)]
    if (day.month, day.day) != (2, 29) and anniversary(date(2000, 2, 29), day.year) == day:
        found.append((2, 29))
    return found


def period_start(moment: datetime, period: Period, zone: ZoneInfo) -> datetime | None:
    """Start (UTC) of the calendar period containing ``moment``; ``None`` for a lifetime."""
    day = local_date(moment, zone)
    if period is Period.DAY:
        first = day
    elif period is Period.WEEK:
        first = day - timedelta(days=day.weekday())  # ISO weeks start on Monday
    elif period is Period.MONTH:
        first = day.replace(day=1)
    elif period is Period.YEAR:
        first = day.replace(month=1, day=1)
    else:
        return None
    return start_of_local_day(first, zone)


def end_of_local_day_after(moment: datetime, zone: ZoneInfo, *, months: int = 0, days: int = 0) -> datetime:
    """The instant the local day ``months``/``days`` after ``moment`` ends, in UTC.

    Points earned on 15 March with a 12-month life stay usable through 15 March of the next year, local time; they
    expire at the first instant of 16 March in the program's zone, never hours early because of UTC.
    """
    last_day = add_months(local_date(moment, zone), months) + timedelta(days=days)
    return start_of_local_day(last_day + timedelta(days=1), zone)


def last_usable_day(expires_at: datetime, zone: ZoneInfo) -> date:
    """The last local day something that expires at ``expires_at`` can still be used: expiries fall on the first
    instant of a local day, and members think in the day before it ("valid until 15 March")."""
    return local_date(expires_at - timedelta(microseconds=1), zone)
