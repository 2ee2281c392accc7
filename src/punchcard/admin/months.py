"""A calendar month in the program's zone, as the console's monthly pages (causes, coalition) choose it: typed as
``YYYY-MM`` in the query string, this month when none is, with the neighbours to step to."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date

from punchcard.admin import render
from punchcard.kit.calendar import add_months, local_date, start_of_local_day

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
YEARS = (2000, 9998)
"""The years a month may be chosen in."""
MONTH_HINT = "a month as YYYY-MM, such as 2026-11"


@dataclass(frozen=True)
class Month:
    """A calendar month in the program's zone."""

    first: date
    zone: ZoneInfo

    @property
    def key(self) -> str:
        """``2026-11``: the query string's value, and a monthly matching budget's period."""
        return f"{self.first.year:04d}-{self.first.month:02d}"

    @property
    def label(self) -> str:
        return format_date(self.first, "MMMM y", locale=render.LOCALE)

    @property
    def since(self) -> datetime:
        return start_of_local_day(self.first, self.zone)

    @property
    def until(self) -> datetime:
        return start_of_local_day(add_months(self.first, 1), self.zone)

    @property
    def previous(self) -> Month | None:
        before = add_months(self.first, -1)
        return Month(before, self.zone) if before.year >= YEARS[0] else None

    @property
    def next(self) -> Month | None:
        after = add_months(self.first, 1)
        return Month(after, self.zone) if after.year <= YEARS[1] else None


def this_month(zone: ZoneInfo, now: datetime) -> Month:
    return Month(local_date(now, zone).replace(day=1), zone)


def month_of(typed: str, zone: ZoneInfo) -> Month | None:
    """The month ``typed`` as ``YYYY-MM`` (blanks around it allowed); ``None`` if it is not one."""
    found = _MONTH.match(typed.strip())
    if found is None:
        return None
    year, month = int(found.group(1)), int(found.group(2))
    if not (YEARS[0] <= year <= YEARS[1] and 1 <= month <= 12):
        return None
    return Month(date(year, month, 1), zone)


def month_error(typed: str) -> str:
    return f"Choose {MONTH_HINT}, in {YEARS[0]} to {YEARS[1]}."
