"""The dashboard of one program for one period: totals, the same figures per day/week/month for the charts, and the
tier distribution; and what the members friends brought spent (``referred_orders``). Read-only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import accumulate

from sqlalchemy.orm import Session

from punchcard.analytics import repository
from punchcard.analytics.domain import Bucket, OrderStats, Period, PointFlows, Totals, buckets, liability
from punchcard.event import history as events
from punchcard.member import service as members
from punchcard.program.domain import ProgramVersion
from punchcard.referral import service as referrals
from punchcard.tier import service as tiers


@dataclass(frozen=True)
class BucketFigures:
    bucket: Bucket
    enrolled: int
    flows: PointFlows
    orders: OrderStats
    outstanding_after: int


@dataclass(frozen=True)
class TierCount:
    code: str
    name: str
    members: int


@dataclass(frozen=True)
class Dashboard:
    period: Period
    currency: str
    point_value: Decimal
    totals: Totals
    series: list[BucketFigures]
    tiers: list[TierCount]

    @property
    def liability(self) -> Decimal:
        return liability(self.totals.outstanding_after, self.point_value)


def totals(session: Session, program_id: int, period: Period) -> Totals:
    before, _ = repository.outstanding(session, program_id, period.start)
    after, debt = repository.outstanding(session, program_id, period.end)
    return Totals(
        enrolled=members.count_enrolled(session, program_id, period.start, period.end),
        flows=repository.flows(session, program_id, period.start, period.end),
        orders=OrderStats(*events.order_figures(session, program_id, period.start, period.end)),
        outstanding_before=before,
        outstanding_after=after,
        debt_after=debt,
    )


def series(session: Session, program_id: int, period: Period, outstanding_before: int) -> list[BucketFigures]:
    """Per bucket; outstanding points at each bucket's end are the period's opening figure plus the running net."""
    cut = buckets(period)
    flows = repository.flows_by_bucket(session, program_id, cut)
    enrolled = members.count_enrolled_by_span(session, program_id, cut)
    orders = [
        OrderStats(*figures) if figures else OrderStats()
        for figures in events.order_figures_by_span(session, program_id, cut)
    ]
    running = accumulate((f.net for f in flows), initial=outstanding_before)
    next(running)
    return [
        BucketFigures(bucket, joined, flow, placed, after)
        for bucket, joined, flow, placed, after in zip(cut, enrolled, flows, orders, running, strict=True)
    ]


def dashboard(session: Session, version: ProgramVersion, period: Period) -> Dashboard:
    program = version.program
    found = totals(session, version.program_id, period)
    by_code = tiers.distribution(session, version.program_id, period.end)
    names = {tier.code: tier.name.default for tier in program.tiers.tiers} if program.tiers else {}
    codes = [*names, *sorted(set(by_code) - set(names))]  # tiers a later program version dropped still count
    return Dashboard(
        period=period,
        currency=program.currency,
        point_value=program.point_value,
        totals=found,
        series=series(session, version.program_id, period, found.outstanding_before),
        tiers=[TierCount(code, names.get(code, code), by_code.get(code, 0)) for code in codes],
    )


def outstanding_points(session: Session, program_id: int, at: datetime) -> int:
    """Available plus pending points of all the program's members at ``at``, entries of that very moment included
    (nothing is ever dated later than now): what the liability values."""
    return repository.outstanding(session, program_id, at + timedelta(microseconds=1))[0]


def referred_orders(session: Session, program_id: int, start: datetime, end: datetime) -> OrderStats:
    """The orders placed in ``[start, end)`` by members who joined with a referral code (whatever became of the
    referral): their ``value_minor`` is the revenue of referred members, counted as the dashboard counts order value
    (merchandise plus shipping, before refunds, by the moment the order was placed)."""
    return OrderStats(*events.order_figures(session, program_id, start, end, among=referrals.referees(program_id)))
