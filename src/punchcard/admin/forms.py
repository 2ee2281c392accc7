"""Reading the console's forms and query strings into checked values, with an error message per field.

Where the API has a request model for the same thing (an adjustment, the earning preview), the form is validated with
that model, so staff see the same rules and messages as integrators.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

from pydantic import ValidationError

from punchcard.analytics.domain import Period
from punchcard.kit.calendar import add_months, local_date
from punchcard.kit.money import exponent, to_minor
from punchcard.member.schemas import AdjustmentIn

Errors = dict[str, str]


def field_errors(error: ValidationError, prefix: str = "") -> Errors:
    """Pydantic errors keyed by dotted field path, first message per field."""
    found: Errors = {}
    for item in error.errors():
        path = ".".join(str(part) for part in item["loc"])
        found.setdefault(prefix + path, item["msg"].removeprefix("Value error, "))
    return found


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


@dataclass(frozen=True)
class PeriodChoice:
    period: Period
    error: str | None = None


def default_period(zone: ZoneInfo, now: datetime) -> Period:
    """The twelve months up to and including today, in the program's zone."""
    today = local_date(now, zone)
    return Period(add_months(today, -12) + timedelta(days=1), today, zone)


def period(first: str | None, last: str | None, zone: ZoneInfo, now: datetime) -> PeriodChoice:
    if not first and not last:
        return PeriodChoice(default_period(zone, now))
    try:
        start, end = _date(first), _date(last)
        end = end or local_date(now, zone)
        return PeriodChoice(Period(start or end, end, zone))
    except ValueError as error:
        return PeriodChoice(default_period(zone, now), f"The period was not valid ({error}); showing the default.")


def presets(zone: ZoneInfo, now: datetime) -> list[tuple[str, Period]]:
    """Quick choices of period, named as people say them."""
    today = local_date(now, zone)
    first_of_year = today.replace(month=1, day=1)
    return [
        ("Last 30 days", Period(today - timedelta(days=29), today, zone)),
        ("Last 90 days", Period(today - timedelta(days=89), today, zone)),
        ("Last 12 months", default_period(zone, now)),
        ("This year", Period(first_of_year, today, zone)),
        ("Last year", Period(first_of_year.replace(year=today.year - 1), first_of_year - timedelta(days=1), zone)),
    ]


def form_key() -> str:
    """A one-time key for a form whose effect must happen once, however often it is sent."""
    return uuid.uuid4().hex


def adjustment(points: str, reason: str) -> tuple[AdjustmentIn | None, Errors]:
    try:
        whole = int(points.strip())
    except ValueError:
        return None, {"points": "enter a whole number of points, negative to remove points"}
    try:
        return AdjustmentIn(points=whole, reason=reason.strip()), {}
    except ValidationError as error:
        return None, field_errors(error)


MOST_CREDIT = Decimal(1_000_000)
"""The most store credit one console grant gives, in the currency's units: a typo of a few zeros is refused."""
REASON_LENGTH = (3, 500)


@dataclass(frozen=True)
class CreditGrant:
    amount_minor: int
    reason: str


def credit_grant(amount: str, reason: str, currency: str) -> tuple[CreditGrant | None, Errors]:
    """Store credit to grant: an amount more than zero with at most the currency's decimals (never rounded), and a
    reason; the errors are keyed ``credit_amount`` and ``credit_reason`` (the member page's other forms have theirs)."""
    errors: Errors = {}
    places = exponent(currency)
    try:
        value: Decimal | None = Decimal(amount.strip())
    except InvalidOperation:
        value = None
    example = f"5.{'0' * places}" if places else "5"
    if value is None or not value.is_finite():
        errors["credit_amount"] = f"enter an amount in {currency}, such as {example}"
    elif value <= 0:
        errors["credit_amount"] = "the amount must be more than zero"
    elif value > MOST_CREDIT:
        errors["credit_amount"] = f"at most {MOST_CREDIT:,} {currency} at a time"
    elif value != value.quantize(Decimal(1).scaleb(-places)):
        errors["credit_amount"] = f"{currency} has {places} decimals: enter an amount such as {example}"
    said = reason.strip()
    if not REASON_LENGTH[0] <= len(said) <= REASON_LENGTH[1]:
        errors["credit_reason"] = (
            f"say why, in {REASON_LENGTH[0]} to {REASON_LENGTH[1]} characters (it goes to the ledger and the audit log)"
        )
    if errors or value is None:
        return None, errors
    return CreditGrant(to_minor(value, currency), said), {}
