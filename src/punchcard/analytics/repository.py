"""The dashboard's SQL: every number is one set-wise query over ``ledger_entries``, ``orders``, ``members`` or
``tier_changes`` of one program, never a loop over members.

Per-bucket queries compute the bucket in a subquery and group by its column: PostgreSQL does not accept a GROUP BY on
an expression whose bound parameters differ from the select list's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from punchcard.analytics.domain import Bucket, OrderStats, PointFlows
from punchcard.event.models import Order
from punchcard.ledger.domain import Account, EntryKind
from punchcard.ledger.models import LedgerEntry
from punchcard.member.models import Member
from punchcard.tier.models import TierChange

_BALANCE_ACCOUNTS = (Account.POINTS.value, Account.PENDING_POINTS.value)


def _bucket_of(column: Any, buckets: Sequence[Bucket]) -> ColumnElement[Any]:
    """The index of the bucket ``column`` falls in (NULL outside them all)."""
    return case(*[(and_(column >= b.start, column < b.end), index) for index, b in enumerate(buckets)])


def _flow_sums(kind: Any, amount: Any) -> list[ColumnElement[Any]]:
    """Sums in ``PointFlows`` field order, each a positive number."""

    def total(condition: ColumnElement[bool], sign: int) -> ColumnElement[Any]:
        return func.coalesce(func.sum(case((condition, amount * sign), else_=0)), 0)

    adjust = kind == EntryKind.ADJUST.value
    return [
        total(kind == EntryKind.EARN.value, 1),
        total(adjust & (amount > 0), 1),
        total(kind == EntryKind.SPEND.value, -1),
        total(kind == EntryKind.EXPIRE.value, -1),
        total(kind == EntryKind.REVERSE.value, -1),
        total(adjust & (amount < 0), -1),
    ]


def _flows(row: Sequence[Any]) -> PointFlows:
    return PointFlows(*(int(value) for value in row))


def flows(session: Session, program_id: int, start: datetime, end: datetime) -> PointFlows:
    entry = LedgerEntry
    row = session.execute(
        select(*_flow_sums(entry.kind, entry.amount)).where(
            entry.program_id == program_id,
            entry.account.in_(_BALANCE_ACCOUNTS),
            entry.occurred_at >= start,
            entry.occurred_at < end,
        )
    ).one()
    return _flows(row)


def flows_by_bucket(session: Session, program_id: int, buckets: Sequence[Bucket]) -> list[PointFlows]:
    entry = LedgerEntry
    inner = (
        select(_bucket_of(entry.occurred_at, buckets).label("bucket"), entry.kind, entry.amount)
        .where(
            entry.program_id == program_id,
            entry.account.in_(_BALANCE_ACCOUNTS),
            entry.occurred_at >= buckets[0].start,
            entry.occurred_at < buckets[-1].end,
        )
        .subquery()
    )
    rows = session.execute(
        select(inner.c.bucket, *_flow_sums(inner.c.kind, inner.c.amount)).group_by(inner.c.bucket)
    ).all()
    found = {row[0]: _flows(row[1:]) for row in rows}
    return [found.get(index, PointFlows()) for index in range(len(buckets))]


def outstanding(session: Session, program_id: int, before: datetime) -> tuple[int, int]:
    """Available plus pending points of all the program's members before ``before``, and the debt netted in it."""
    entry = LedgerEntry
    is_debt_line = (entry.account == Account.POINTS.value) & entry.lot_id.is_(None)
    row = session.execute(
        select(
            func.coalesce(func.sum(entry.amount), 0),
            func.coalesce(func.sum(case((is_debt_line, entry.amount), else_=0)), 0),
        ).where(entry.program_id == program_id, entry.account.in_(_BALANCE_ACCOUNTS), entry.occurred_at < before)
    ).one()
    return int(row[0]), -int(row[1])


def enrolled(session: Session, program_id: int, start: datetime, end: datetime) -> int:
    query = select(func.count()).where(
        Member.program_id == program_id, Member.enrolled_at >= start, Member.enrolled_at < end
    )
    return int(session.execute(query).scalar_one())


def enrolled_by_bucket(session: Session, program_id: int, buckets: Sequence[Bucket]) -> list[int]:
    inner = (
        select(_bucket_of(Member.enrolled_at, buckets).label("bucket"))
        .where(
            Member.program_id == program_id,
            Member.enrolled_at >= buckets[0].start,
            Member.enrolled_at < buckets[-1].end,
        )
        .subquery()
    )
    rows = session.execute(select(inner.c.bucket, func.count()).group_by(inner.c.bucket)).all()
    found = {row[0]: int(row[1]) for row in rows}
    return [found.get(index, 0) for index in range(len(buckets))]


def _order_sums(orders: Any, value: Any) -> list[ColumnElement[Any]]:
    """Over per-member rows (``orders``, ``value``): orders, buyers, repeat buyers, value; in ``OrderStats`` order."""
    return [
        func.coalesce(func.sum(orders), 0),
        func.count(),
        func.coalesce(func.sum(case((orders >= 2, 1), else_=0)), 0),
        func.coalesce(func.sum(value), 0),
    ]


def order_stats(session: Session, program_id: int, start: datetime, end: datetime) -> OrderStats:
    per_member = (
        select(
            func.count().label("orders"),
            func.sum(Order.total_minor + Order.shipping_minor).label("value"),
        )
        .where(Order.program_id == program_id, Order.occurred_at >= start, Order.occurred_at < end)
        .group_by(Order.member_id)
        .subquery()
    )
    row = session.execute(select(*_order_sums(per_member.c.orders, per_member.c.value))).one()
    return OrderStats(*(int(value) for value in row))


def order_stats_by_bucket(session: Session, program_id: int, buckets: Sequence[Bucket]) -> list[OrderStats]:
    placed = (
        select(
            _bucket_of(Order.occurred_at, buckets).label("bucket"),
            Order.member_id,
            (Order.total_minor + Order.shipping_minor).label("value"),
        )
        .where(
            Order.program_id == program_id,
            Order.occurred_at >= buckets[0].start,
            Order.occurred_at < buckets[-1].end,
        )
        .subquery()
    )
    per_member = (
        select(placed.c.bucket, func.count().label("orders"), func.sum(placed.c.value).label("value"))
        .group_by(placed.c.bucket, placed.c.member_id)
        .subquery()
    )
    rows = session.execute(
        select(per_member.c.bucket, *_order_sums(per_member.c.orders, per_member.c.value)).group_by(per_member.c.bucket)
    ).all()
    found = {row[0]: OrderStats(*(int(value) for value in row[1:])) for row in rows}
    return [found.get(index, OrderStats()) for index in range(len(buckets))]


def tier_distribution(session: Session, program_id: int, before: datetime) -> dict[str, int]:
    """Members by the tier their latest change before ``before`` gave them (enrolment records the first tier)."""
    ranked = (
        select(
            TierChange.to_code,
            func.row_number()
            .over(
                partition_by=TierChange.member_id,
                order_by=(TierChange.changed_at.desc(), TierChange.id.desc()),
            )
            .label("rank"),
        )
        .where(TierChange.program_id == program_id, TierChange.changed_at < before)
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.to_code, func.count()).where(ranked.c.rank == 1).group_by(ranked.c.to_code)
    ).all()
    return {row[0]: int(row[1]) for row in rows}
