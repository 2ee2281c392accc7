"""What the dashboard's numbers mean, pure: the reporting period in the program's time zone, the chart buckets, the
totals and the ratios derived from them, and each metric's definition as the page states it.

Every count and sum is taken from the ledger, orders and members by ``analytics.repository``; nothing here touches a
database or a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from zoneinfo import ZoneInfo

from punchcard.kit.calendar import add_months, start_of_local_day

MAX_DAYS = 3 * 366
"""The longest period a dashboard covers: enough for year-on-year views, few enough buckets to draw."""


class Grain(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


@dataclass(frozen=True)
class Period:
    """Local dates ``first`` to ``last``, both included, in the program's zone."""

    first: date
    last: date
    zone: ZoneInfo

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("the period ends before it starts")
        if self.days > MAX_DAYS:
            raise ValueError(f"the period is longer than {MAX_DAYS} days")

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def start(self) -> datetime:
        """The first instant of the period (UTC)."""
        return start_of_local_day(self.first, self.zone)

    @property
    def end(self) -> datetime:
        """The first instant after the period (UTC): the period is ``[start, end)``."""
        return start_of_local_day(self.last + timedelta(days=1), self.zone)

    @property
    def grain(self) -> Grain:
        """Days for up to a month, ISO weeks for up to half a year, calendar months beyond."""
        if self.days <= 31:
            return Grain.DAY
        if self.days <= 26 * 7:
            return Grain.WEEK
        return Grain.MONTH


@dataclass(frozen=True)
class Bucket:
    """One bar of a chart: local dates ``first`` to ``last`` (clipped to the period) and their UTC instants."""

    label: str
    first: date
    last: date
    start: datetime
    end: datetime


def _bucket_start(day: date, grain: Grain) -> date:
    if grain is Grain.DAY:
        return day
    if grain is Grain.WEEK:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def _next_start(day: date, grain: Grain) -> date:
    if grain is Grain.DAY:
        return day + timedelta(days=1)
    if grain is Grain.WEEK:
        return day + timedelta(days=7)
    return add_months(day, 1)


def _label(first: date, grain: Grain) -> str:
    if grain is Grain.DAY:
        return first.isoformat()
    if grain is Grain.WEEK:
        year, week, _ = first.isocalendar()
        return f"{year}-W{week:02d}"
    return first.strftime("%Y-%m")


def buckets(period: Period) -> list[Bucket]:
    """The period cut into calendar days, ISO weeks or months of the program's zone; the first and last are clipped."""
    found = []
    start = _bucket_start(period.first, period.grain)
    while start <= period.last:
        following = _next_start(start, period.grain)
        first, last = max(start, period.first), min(following - timedelta(days=1), period.last)
        found.append(
            Bucket(
                label=_label(start, period.grain),
                first=first,
                last=last,
                start=start_of_local_day(first, period.zone),
                end=start_of_local_day(last + timedelta(days=1), period.zone),
            )
        )
        start = following
    return found


@dataclass(frozen=True)
class PointFlows:
    """Points moved in a span, each as a positive number, from the ``points`` and ``pending_points`` accounts."""

    earned: int = 0
    granted: int = 0
    """Positive staff adjustments."""
    spent: int = 0
    expired: int = 0
    reversed: int = 0
    removed: int = 0
    """Negative staff adjustments."""

    @property
    def issued(self) -> int:
        return self.earned + self.granted

    @property
    def net(self) -> int:
        """The change in outstanding points; vesting and debt repayment move points within a member and net out."""
        return self.issued - self.spent - self.expired - self.reversed - self.removed


@dataclass(frozen=True)
class OrderStats:
    orders: int = 0
    buyers: int = 0
    """Members with at least one order."""
    repeat_buyers: int = 0
    """Members with at least two orders."""
    value_minor: int = 0
    """Merchandise plus shipping, before refunds, in minor units."""


def ratio(numerator: int, denominator: int) -> Decimal | None:
    """``numerator ÷ denominator``, or ``None`` (shown as "–") when there is nothing to divide by."""
    return None if denominator == 0 else Decimal(numerator) / Decimal(denominator)


@dataclass(frozen=True)
class Totals:
    enrolled: int
    flows: PointFlows
    orders: OrderStats
    outstanding_before: int
    outstanding_after: int
    debt_after: int

    @property
    def active(self) -> int:
        return self.orders.buyers

    @property
    def redemption_rate(self) -> Decimal | None:
        return ratio(self.flows.spent, self.flows.issued)

    @property
    def repeat_purchase_rate(self) -> Decimal | None:
        return ratio(self.orders.repeat_buyers, self.orders.buyers)

    @property
    def average_order_minor(self) -> Decimal | None:
        return ratio(self.orders.value_minor, self.orders.orders)

    @property
    def reconciles(self) -> bool:
        """Outstanding at the start plus the period's movements is outstanding at the end."""
        return self.outstanding_before + self.flows.net == self.outstanding_after


def liability(points: int, point_value: Decimal) -> Decimal:
    """What outstanding points would cost the shop if all were redeemed: points × the program's ``point_value``."""
    return points * point_value


DEFINITIONS: dict[str, str] = {
    "enrolled": "Members whose enrolment date falls in the period.",
    "active": "Members with at least one order (purchase event) in the period.",
    "issued": "Points earned by earning rules, plus points staff added by adjustment, dated in the period "
    "(pending points included).",
    "spent": "Points spent on rewards in the period.",
    "expired": "Points that expired in the period (dated at their expiry).",
    "reversed": "Points taken back because orders were refunded, in the period.",
    "removed": "Points staff removed by adjustment in the period.",
    "outstanding": "Available plus pending points of all members at the end of the period: the sum of every points "
    "and pending-points ledger entry dated before the period's end. Member debt (points refunds took beyond "
    "the balance) is netted.",
    "liability": "Outstanding points × the program's point_value (what one point costs the shop).",
    "redemption_rate": "Points spent ÷ points issued, both in the period.",
    "repeat_purchase_rate": "Members with two or more orders in the period ÷ members with at least one.",
    "average_order_value": "The orders' value (merchandise plus shipping, before refunds) ÷ the number of orders, "
    "for orders placed in the period.",
    "tiers": "Members by tier at the end of the period: each member's latest tier change before the period's end.",
    "nps": "Net Promoter Score of the answers given in the period: the share of promoters (9–10) minus the share of "
    "detractors (0–6), from -100 to 100 (Reichheld, 2003). Passives (7–8) count only in the total.",
    "ces": "Customer Effort Score: the mean of the answers (1 very difficult to 7 very easy) given in the period.",
    "reconciliation": "Outstanding at the start + issued − spent − expired − reversed − removed = outstanding at the "
    "end. Vesting (pending to available) and debt repayment move points within a member and do not change the total.",
}

REFERRED_REVENUE = (
    "The value (merchandise plus shipping, before refunds) of the orders placed in the period by members who joined "
    "with a referral code, whatever became of their referral."
)
"""The definition of the revenue of referred members (the referrals page and ``GET /api/v1/referrals/stats``)."""
