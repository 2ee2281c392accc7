"""Queries over lots and entries. Balances are always sums of entries, never a stored number."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, func, select, update
from sqlalchemy.orm import Session

from punchcard.ledger.domain import Account, EntryKind, LotView
from punchcard.ledger.models import LedgerEntry, Lot


@dataclass(frozen=True)
class Balances:
    available: int
    pending: int
    lifetime_earned: int
    debt: int


def balances(session: Session, member_id: int) -> Balances:
    entry = LedgerEntry
    is_points = entry.account.in_([Account.POINTS.value, Account.PENDING_POINTS.value])
    row = session.execute(
        select(
            func.coalesce(func.sum(case((entry.account == Account.POINTS.value, entry.amount), else_=0)), 0),
            func.coalesce(func.sum(case((entry.account == Account.PENDING_POINTS.value, entry.amount), else_=0)), 0),
            func.coalesce(
                func.sum(
                    case(
                        (is_points & (entry.kind == EntryKind.EARN.value), entry.amount),
                        (is_points & (entry.kind == EntryKind.ADJUST.value) & (entry.amount > 0), entry.amount),
                        else_=0,
                    )
                ),
                0,
            ),
            func.coalesce(
                func.sum(
                    case(((entry.account == Account.POINTS.value) & entry.lot_id.is_(None), entry.amount), else_=0)
                ),
                0,
            ),
        ).where(entry.member_id == member_id, entry.account != Account.TIER_CREDITS.value)
    ).one()
    return Balances(available=int(row[0]), pending=int(row[1]), lifetime_earned=int(row[2]), debt=-int(row[3]))


def spendable_lots(session: Session, member_id: int, now: datetime) -> list[LotView]:
    """Available lots with points left that have not expired at ``now``, locked against the expiry job."""
    rows = session.execute(
        select(Lot.id, Lot.remaining, Lot.expires_at)
        .where(
            Lot.member_id == member_id,
            Lot.remaining > 0,
            Lot.is_pending.is_(False),
            (Lot.expires_at.is_(None)) | (Lot.expires_at > now),
        )
        .order_by(Lot.id)
        .with_for_update()
    ).all()
    return [LotView(row.id, row.remaining, row.expires_at) for row in rows]


def lock_lot(session: Session, lot_id: int) -> Lot:
    query = select(Lot).where(Lot.id == lot_id).with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one()


def take_from_lot(session: Session, lot_id: int, points: int) -> None:
    """Relative update: the CHECK constraint refuses it if it would go below zero."""
    session.execute(update(Lot).where(Lot.id == lot_id).values(remaining=Lot.remaining - points))


def expiring(session: Session, member_id: int, now: datetime, limit: int = 5) -> list[tuple[datetime, int]]:
    rows = session.execute(
        select(Lot.expires_at, func.sum(Lot.remaining))
        .where(Lot.member_id == member_id, Lot.remaining > 0, Lot.expires_at > now)
        .group_by(Lot.expires_at)
        .order_by(Lot.expires_at)
        .limit(limit)
    ).all()
    return [(row[0], int(row[1])) for row in rows if row[0] is not None]


def sum_account(session: Session, member_id: int, account: Account, since: datetime | None, until: datetime) -> int:
    """The account's balance counting only entries that occurred in ``[since, until]``."""
    query = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.member_id == member_id, LedgerEntry.account == account.value, LedgerEntry.occurred_at <= until
    )
    if since is not None:
        query = query.where(LedgerEntry.occurred_at >= since)
    return int(session.execute(query).scalar_one())


def firing_count(session: Session, member_id: int, rule_code: str, since: datetime | None, until: datetime) -> int:
    """How many times a rule awarded points in ``[since, until]``: each firing credits its own lot."""
    query = select(func.count(func.distinct(LedgerEntry.lot_id))).where(
        LedgerEntry.member_id == member_id,
        LedgerEntry.rule_code == rule_code,
        LedgerEntry.kind == EntryKind.EARN.value,
        LedgerEntry.occurred_at <= until,
    )
    if since is not None:
        query = query.where(LedgerEntry.occurred_at >= since)
    return int(session.execute(query).scalar_one())


def history(session: Session, member_id: int, before_id: int | None, limit: int) -> Sequence[LedgerEntry]:
    """The member's entries, newest first, from just below ``before_id`` (keyset pagination)."""
    query = select(LedgerEntry).where(LedgerEntry.member_id == member_id)
    if before_id is not None:
        query = query.where(LedgerEntry.id < before_id)
    return session.execute(query.order_by(LedgerEntry.id.desc()).limit(limit)).scalars().all()


def sum_account_by_member(
    session: Session, member_ids: Sequence[int], account: Account, since: datetime | None, until: datetime
) -> dict[int, int]:
    """``sum_account`` for many members in one grouped query (the tier review)."""
    query = (
        select(LedgerEntry.member_id, func.sum(LedgerEntry.amount))
        .where(
            LedgerEntry.member_id.in_(member_ids),
            LedgerEntry.account == account.value,
            LedgerEntry.occurred_at <= until,
        )
        .group_by(LedgerEntry.member_id)
    )
    if since is not None:
        query = query.where(LedgerEntry.occurred_at >= since)
    return {member_id: int(total) for member_id, total in session.execute(query).all()}
