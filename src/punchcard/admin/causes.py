"""The causes page — each cause the program lists, with what members gave it in a chosen calendar month (this month
unless chosen, in the program's zone) and in all: points given, their value, the shop's matching, the total given
and the donors; the progress towards its goal; and the matching budget of the month's period, used and left — and each
cause's settlement as CSV, for the month or for all time: the lines and columns of the API's
(``GET /api/v1/causes/{code}/settlement?format=csv``, both ``cause.service.settlement_csv``). Read-only: causes are
set in the program file's ``causes`` section, donations made through the API, the portal and standing gifts.

Every figure is ``cause.service.totals`` over ``[since, until)`` of the donations' times. A matching budget's use is
the matching of the donations in its period (a month, the year the month is in, or all time): each donation draws on
the budget of the period it was made in, so this is what the budget's row holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from fastapi.responses import HTMLResponse, Response

from punchcard.admin import render
from punchcard.admin.frame import Frame
from punchcard.admin.months import MONTH_HINT, Month, month_error, month_of, this_month
from punchcard.cause import service as causes
from punchcard.cause.domain import Cause, Matching, MatchPeriod, Totals
from punchcard.cause.errors import CauseNotFound
from punchcard.kit.calendar import add_months, local_date, start_of_local_day
from punchcard.kit.errors import ValidationFailed
from punchcard.kit.money import from_minor


@dataclass(frozen=True)
class Budget:
    """A cause's matching budget for the period a month falls in."""

    period: str
    """In words: ``November 2026``, ``2026``, ``all time``."""
    budget_minor: int
    used_minor: int

    @property
    def left_minor(self) -> int:
        return max(0, self.budget_minor - self.used_minor)

    @property
    def share_used(self) -> Decimal:
        return Decimal(min(self.used_minor, self.budget_minor)) / Decimal(self.budget_minor)


@dataclass(frozen=True)
class Board:
    """One cause on the page."""

    cause: Cause
    month: Totals
    all: Totals
    status: str
    """As of now: ``open``, ``not yet open`` or ``closed``."""
    active: str
    """When it takes donations, in words."""
    matching: str
    """The shop's matching, in words (``none`` without)."""
    budget: Budget | None

    @property
    def goal_share(self) -> Decimal | None:
        """The share of the goal given in all (value and matching), at most the whole."""
        goal = self.cause.goal_minor
        return None if not goal else Decimal(min(self.all.given_minor, goal)) / Decimal(goal)


def amount(minor: int, currency: str) -> str:
    return render.money(from_minor(minor, currency), currency)


def status(cause: Cause, zone: ZoneInfo, now: datetime) -> str:
    if cause.is_open(now, zone):
        return "open"
    return "not yet open" if cause.starts_on is not None and local_date(now, zone) < cause.starts_on else "closed"


def active(cause: Cause) -> str:
    first, last = cause.starts_on, cause.ends_on
    if first and last:
        return f"from {first.isoformat()} to {last.isoformat()}, both included"
    if first:
        return f"from {first.isoformat()}"
    return f"until {last.isoformat()}, included" if last else "always"


PERIODS = {MatchPeriod.MONTH: "a month", MatchPeriod.YEAR: "a year", MatchPeriod.TOTAL: "in all"}


def matching(given: Matching | None, currency: str) -> str:
    """``1 × each donation's value, up to €500.00 a month``."""
    if given is None:
        return "none"
    ratio = render.number(given.ratio)
    return f"{ratio} × each donation's value, up to {amount(given.budget_minor, currency)} {PERIODS[given.period]}"


def budget(frame: Frame, cause: Cause, month: Month, month_totals: Totals, all_totals: Totals) -> Budget | None:
    """The matching budget of the period ``month`` falls in, and how much of it the donations of that period used."""
    given = cause.matching
    if given is None:
        return None
    if given.period is MatchPeriod.MONTH:
        return Budget(month.label, given.budget_minor, month_totals.matched_minor)
    if given.period is MatchPeriod.TOTAL:
        return Budget("all time", given.budget_minor, all_totals.matched_minor)
    assert frame.version is not None
    year = month.first.replace(month=1)
    since, until = start_of_local_day(year, month.zone), start_of_local_day(add_months(year, 12), month.zone)
    in_year = causes.totals(frame.session, frame.version.cause_terms, since, until)[cause.code]
    return Budget(f"{year.year:04d}", given.budget_minor, in_year.matched_minor)


def page(frame: Frame, now: datetime, typed: str = "") -> HTMLResponse:
    """Each cause's figures for the month ``typed`` (``YYYY-MM``; this month when empty) and in all; 422 with this
    month's figures when ``typed`` is not a month."""
    assert frame.version is not None
    terms = frame.version.cause_terms
    zone, currency = terms.zone, terms.currency
    current = this_month(zone, now)
    chosen = month_of(typed, zone) if typed.strip() else current
    problem = "" if chosen is not None else month_error(typed)
    month = chosen or current
    in_month = causes.totals(frame.session, terms, month.since, month.until)
    in_all = causes.totals(frame.session, terms, None, None)
    boards = [
        Board(
            cause,
            in_month[cause.code],
            in_all[cause.code],
            status(cause, zone, now),
            active(cause),
            matching(cause.matching, currency),
            budget(frame, cause, month, in_month[cause.code], in_all[cause.code]),
        )
        for cause in terms.causes
    ]
    return frame.page(
        "causes.html",
        422 if problem else 200,
        boards=boards,
        month=month,
        current=current,
        typed=typed if problem else month.key,
        problem=problem,
        hint=MONTH_HINT,
        currency=currency,
        now=now,
    )


def settlement_download(frame: Frame, code: str, typed: str = "") -> Response:
    """The cause's settlement as CSV, named ``<slug>-<cause>-settlement-<YYYY-MM>.csv`` for the month ``typed`` or
    ``…-all-time.csv`` without one: one line per donation, as the API's."""
    assert frame.version is not None
    terms = frame.version.cause_terms
    if not any(cause.code == code for cause in terms.causes):
        raise CauseNotFound(f"the program has no cause {code!r}", [{"cause": code}])
    month = month_of(typed, terms.zone) if typed.strip() else None
    if typed.strip() and month is None:
        raise ValidationFailed(month_error(typed), [{"field": "month", "message": MONTH_HINT}])
    since, until = (month.since, month.until) if month is not None else (None, None)
    lines = causes.settlement(frame.session, terms, code, since, until)
    name = f"{frame.version.program.slug}-{code}-settlement-{month.key if month is not None else 'all-time'}.csv"
    return Response(
        causes.settlement_csv(lines).encode(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )
