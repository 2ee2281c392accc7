"""Birthday and enrolment-anniversary gifts (pure): which occasion a run of the scheduled jobs gives a member, and
which it must not.

An occasion comes round once a year (``kit.calendar.anniversary``: 29 February on 28 February in common years), in
the program's time zone. Its gift is due ``days_before`` it; a run that comes up to ``catch_up_days`` late still
gives it, a later one never does. A gift is keyed by the year the occasion comes round in, so a member gets at most
one per occasion and year however the runs fall; a birth date changed shortly before the birthday gives none.
"""

from __future__ import annotations

from calendar import monthrange
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from punchcard.kit.calendar import anniversaries_on, anniversary, local_date

DAY = timedelta(days=1)


class Occasion(StrEnum):
    BIRTHDAY = "birthday"
    ANNIVERSARY = "anniversary"
    """Of the member's enrolment: the first one a year after it."""


@dataclass(frozen=True)
class Gift:
    """What a program gives on an occasion (the program file's ``birthday`` or ``anniversary``)."""

    points: int = 0
    reward: str | None = None
    """A reward of the catalogue, whose coupon is given without points."""
    days_before: int = 0
    """Given this many days before the occasion (0: on the day)."""
    catch_up_days: int = 7
    """A run this many days late still gives it; a later one never does."""
    min_days_since_birth_date_change: int = 0
    """Birthdays: none when the birth date was changed fewer than this many days before the birthday."""


@dataclass(frozen=True)
class Celebrant:
    """What the rules need to know of a member."""

    enrolled_at: datetime
    birth_date: date | None = None
    birth_date_changed_at: datetime | None = None
    """The last change of ``birth_date`` after enrolment (``None``: never changed)."""


@dataclass(frozen=True)
class Occurrence:
    """An occasion as it comes round in one year."""

    occasion: Occasion
    year: int
    """The year it comes round in: one gift per member, occasion and year."""
    day: date
    """The birthday, or the anniversary, in ``year``."""


def window(gift: Gift, at: datetime, zone: ZoneInfo) -> tuple[date, date]:
    """The first and last day whose occasion a run at ``at`` gives: those whose gift is due today, or was due at
    most ``catch_up_days`` ago (local dates in ``zone``)."""
    today = local_date(at, zone)
    return today + (gift.days_before - gift.catch_up_days) * DAY, today + gift.days_before * DAY


def origin(occasion: Occasion, member: Celebrant, zone: ZoneInfo) -> date | None:
    """The date the occasion comes round from: the birth date, or the local day of enrolment."""
    if occasion is Occasion.BIRTHDAY:
        return member.birth_date
    return local_date(member.enrolled_at, zone)


def due(occasion: Occasion, gift: Gift, member: Celebrant, at: datetime, zone: ZoneInfo) -> Occurrence | None:
    """The occurrence whose gift a run at ``at`` gives the member, or ``None``. Never one in the origin's own year
    (the day of birth, the day of enrolment), nor a birthday before the member enrolled; and no birthday when the
    birth date changed fewer than ``min_days_since_birth_date_change`` days before it (or after it)."""
    start = origin(occasion, member, zone)
    if start is None:
        return None
    first, last = window(gift, at, zone)
    days = (anniversary(start, year) for year in range(max(first.year, start.year + 1), last.year + 1))
    day = next((day for day in days if first <= day <= last), None)
    if day is None or day < local_date(member.enrolled_at, zone):
        return None
    if occasion is Occasion.BIRTHDAY and not _settled(member, day, gift, zone):
        return None
    return Occurrence(occasion, day.year, day)


def _settled(member: Celebrant, birthday: date, gift: Gift, zone: ZoneInfo) -> bool:
    """Whether the birth date was last changed at least ``min_days_since_birth_date_change`` days before
    ``birthday``: a birth date moved to a day just past or just coming would otherwise give a gift on demand."""
    changed = member.birth_date_changed_at
    if changed is None:
        return True
    return (birthday - local_date(changed, zone)).days >= gift.min_days_since_birth_date_change


@dataclass(frozen=True)
class Round:
    """The occurrences of one year that a run may give: a member whose origin date lies in one of ``origins``
    (first and last day, inclusive; one span per year of origin) has one in ``year``. The database finds them by
    these ranges, on an index; ``due`` then decides for each member."""

    year: int
    origins: tuple[tuple[date, date], ...]


def rounds(first: date, last: date, since_year: int) -> list[Round]:
    """The rounds for the occasions from ``first`` to ``last`` (at most a year apart), of origins from ``since_year``
    on: for each year they fall in and each earlier year of origin, the dates that come round on one of them."""
    days = [first + offset * DAY for offset in range((last - first).days + 1)]
    found = []
    for year in sorted({day.year for day in days}):
        spans = []
        for origin_year in range(since_year, year):
            origins = [
                date(origin_year, month, day_of_month)
                for day in days
                if day.year == year
                for month, day_of_month in anniversaries_on(day)
                if day_of_month <= monthrange(origin_year, month)[1]
            ]
            if origins:
                spans.append((min(origins), max(origins)))
        found.append(Round(year, tuple(spans)))
    return found
