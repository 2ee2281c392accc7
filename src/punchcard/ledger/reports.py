"""The ledger's figures over many members at once, for the features that show or judge them (the dashboard, the
console's member search, the nightly tier review): each one set-wise query over ``ledger_entries``, never a loop over
members. They live here, with the table, so no other feature writes SQL against the ledger's rows.

Point flows come back in ``FLOWS`` order, each a positive number.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ColumnElement, bindparam, case, func, select
from sqlalchemy.orm import Session

from punchcard.kit.spans import Span, span_of
from punchcard.ledger.domain import Account, EntryKind
from punchcard.ledger.models import LedgerAccount, LedgerEntry, Lot

_BALANCE_ACCOUNTS = (Account.POINTS.value, Account.PENDING_POINTS.value)
FLOWS = ("earned", "granted", "spent", "expired", "reversed", "removed")
"""What ``flows`` sums, in order: earnings, positive adjustments, spending, expiry, refunds' reversals, negative
adjustments."""


def _flow_sums(kind: Any, amount: Any) -> list[ColumnElement[Any]]:
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


def _ints(row: Sequence[Any]) -> tuple[int, ...]:
    return tuple(int(value) for value in row)


def flows(session: Session, program_id: int, start: datetime, end: datetime) -> tuple[int, ...]:
    """Points moved on the members' balance accounts in ``[start, end)``, in ``FLOWS`` order."""
    entry = LedgerEntry
    row = session.execute(
        select(*_flow_sums(entry.kind, entry.amount)).where(
            entry.program_id == program_id,
            entry.account.in_(_BALANCE_ACCOUNTS),
            entry.occurred_at >= start,
            entry.occurred_at < end,
        )
    ).one()
    return _ints(row)


def flows_by_span(session: Session, program_id: int, spans: Sequence[Span]) -> list[tuple[int, ...] | None]:
    """``flows`` for each of consecutive ``spans`` in one query; ``None`` for a span with no movement."""
    entry = LedgerEntry
    inner = (
        select(span_of(entry.occurred_at, spans).label("bucket"), entry.kind, entry.amount)
        .where(
            entry.program_id == program_id,
            entry.account.in_(_BALANCE_ACCOUNTS),
            entry.occurred_at >= spans[0].start,
            entry.occurred_at < spans[-1].end,
        )
        .subquery()
    )
    rows = session.execute(
        select(inner.c.bucket, *_flow_sums(inner.c.kind, inner.c.amount)).group_by(inner.c.bucket)
    ).all()
    found = {row[0]: _ints(row[1:]) for row in rows}
    return [found.get(index) for index in range(len(spans))]


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


def points_of(session: Session, member_ids: Sequence[int]) -> dict[int, tuple[int, int]]:
    """(available, pending) of each of ``member_ids`` that has entries, from their account rows in one query."""
    account = LedgerAccount
    rows = session.execute(
        select(
            account.member_id,
            func.sum(case((account.account == Account.POINTS.value, account.balance), else_=0)),
            func.sum(case((account.account == Account.PENDING_POINTS.value, account.balance), else_=0)),
        )
        .where(account.member_id.in_(list(member_ids)))
        .group_by(account.member_id)
    )
    return {member_id: (int(available), int(pending)) for member_id, available, pending in rows}


def tier_credits_by_member(
    session: Session, first_id: int, last_id: int, since: datetime | None, until: datetime
) -> dict[int, int]:
    """Tier credits in ``[since, until]`` of every member with an id from ``first_id`` to ``last_id``, in one grouped
    query.

    A range of ids, not a list: PostgreSQL reads one stretch of ``ix_ledger_entries_member`` (member_id, account, id)
    instead of descending the index once per member, about a tenth of the pages for a batch of members (members
    skipped by the batch, or of other programs, are summed too and ignored).
    """
    # The bounds are written into the statement: with parameters, PostgreSQL switches to a generic plan after a few
    # batches and walks ix_ledger_entries_rule_firings instead, visiting the heap for every entry of every account.
    query = (
        select(LedgerEntry.member_id, func.sum(LedgerEntry.amount))
        .where(
            LedgerEntry.member_id >= bindparam("first_id", first_id, literal_execute=True),
            LedgerEntry.member_id <= bindparam("last_id", last_id, literal_execute=True),
            LedgerEntry.account == Account.TIER_CREDITS.value,
            LedgerEntry.occurred_at <= until,
        )
        .group_by(LedgerEntry.member_id)
    )
    if since is not None:
        query = query.where(LedgerEntry.occurred_at >= since)
    # Member accounts always name their member (a CHECK constraint): only program accounts' legs have none.
    return {cast(int, member_id): int(total) for member_id, total in session.execute(query).all()}


def expiring(session: Session, program_id: int, after: datetime, until: datetime) -> list[tuple[int, datetime, int]]:
    """(member id, expiry moment, points) of the points left in lots expiring in ``(after, until]``, by member and
    moment, members in id order."""
    rows = session.execute(
        select(Lot.member_id, Lot.expires_at, func.sum(Lot.remaining))
        .where(Lot.program_id == program_id, Lot.remaining > 0, Lot.expires_at > after, Lot.expires_at <= until)
        .group_by(Lot.member_id, Lot.expires_at)
        .order_by(Lot.member_id, Lot.expires_at)
    ).all()
    found = [(int(member_id), expires_at, int(points)) for member_id, expires_at, points in rows]
    return [(member_id, expires_at, points) for member_id, expires_at, points in found if expires_at is not None]


def expiring_points_of(session: Session, member_id: int, expires_at: datetime) -> int:
    """What is still left of the member's points that expire at ``expires_at``."""
    found = session.execute(
        select(func.coalesce(func.sum(Lot.remaining), 0)).where(
            Lot.member_id == member_id, Lot.expires_at == expires_at, Lot.remaining > 0
        )
    ).scalar_one()
    return int(found)
