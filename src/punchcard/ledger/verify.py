"""Proving the ledger adds up: every transfer sums to zero per asset, and every lot (so every balance derived from
the lots) equals the entries that explain it. ``punchcard ledger verify`` runs it; the tests run it after every
sequence of operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, case, func, select, true
from sqlalchemy.orm import Session

from punchcard.ledger.domain import Account
from punchcard.ledger.models import LedgerEntry, Lot

SPENDABLE = (Account.POINTS.value, Account.PENDING_POINTS.value)


@dataclass(frozen=True)
class Problem:
    """One thing that does not add up, in words an operator can act on."""

    check: str
    detail: str


@dataclass(frozen=True)
class Report:
    transfers: int
    lots: int
    problems: Sequence[Problem]

    @property
    def is_balanced(self) -> bool:
        return not self.problems


def verify(session: Session, program_id: int | None = None, limit: int = 20) -> Report:
    """Check the whole ledger (or one program's); at most ``limit`` problems of each kind are listed."""
    entries = LedgerEntry.program_id == program_id if program_id is not None else true()
    lots = Lot.program_id == program_id if program_id is not None else true()
    transfers = int(
        session.execute(select(func.count(func.distinct(LedgerEntry.transfer_id))).where(entries)).scalar_one()
    )
    unbalanced = session.execute(
        select(LedgerEntry.transfer_id, LedgerEntry.asset, func.sum(LedgerEntry.amount))
        .where(entries)
        .group_by(LedgerEntry.transfer_id, LedgerEntry.asset)
        .having(func.sum(LedgerEntry.amount) != 0)
        .limit(limit)
    ).all()
    problems = [
        Problem("transfer_balances", f"transfer {transfer_id} leaves {total} {asset} unbalanced")
        for transfer_id, asset, total in unbalanced
    ]
    # A lot holds what its entries put in and took out, in the account its state says (pending or available).
    legs = (
        select(
            LedgerEntry.lot_id,
            func.sum(LedgerEntry.amount).label("total"),
            func.sum(case((LedgerEntry.account == Account.PENDING_POINTS.value, LedgerEntry.amount), else_=0)).label(
                "pending"
            ),
        )
        .where(entries, LedgerEntry.lot_id.is_not(None), LedgerEntry.account.in_(SPENDABLE))
        .group_by(LedgerEntry.lot_id)
        .subquery()
    )
    held = func.coalesce(legs.c.total, 0)
    pending = func.coalesce(legs.c.pending, 0)
    wrong = session.execute(
        select(Lot.id, Lot.member_id, Lot.remaining, Lot.is_pending, held, pending)
        .outerjoin(legs, legs.c.lot_id == Lot.id)
        .where(
            lots,
            (Lot.remaining != held)
            | and_(Lot.is_pending, pending != Lot.remaining)
            | and_(Lot.is_pending.is_(False), pending != 0),
        )
        .limit(limit)
    ).all()
    problems += [
        Problem(
            "lot_equals_entries",
            f"lot {lot_id} of member {member_id} holds {remaining} ({'pending' if is_pending else 'available'}),"
            f" its entries say {total} ({in_pending} pending)",
        )
        for lot_id, member_id, remaining, is_pending, total, in_pending in wrong
    ]
    checked = int(session.execute(select(func.count()).select_from(Lot).where(lots)).scalar_one())
    return Report(transfers, checked, problems)
