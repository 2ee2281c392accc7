"""Proving the ledger adds up: every transfer sums to zero per asset, every lot equals the entries that explain it,
every member account's stored totals (``ledger_accounts``, what balances are read from) equal its entries and
lots, and no money (a gift card, store credit) is below zero. ``punchcard ledger verify`` runs it; the tests run it
after every sequence of operations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import and_, case, exists, func, select, text, true
from sqlalchemy.orm import Session

from punchcard.ledger.domain import Account, MoneyAccount
from punchcard.ledger.models import CARD_LEGS, LedgerAccount, LedgerEntry, Lot

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
    problems += _accounts(session, program_id, limit)
    problems += _money(session, program_id, limit)
    checked = int(session.execute(select(func.count()).select_from(Lot).where(lots)).scalar_one())
    return Report(transfers, checked, problems)


def _money(session: Session, program_id: int | None, limit: int) -> list[Problem]:
    """Money never goes below zero: no gift card's account, and no member's store credit (spendable or pending)."""
    entries = LedgerEntry.program_id == program_id if program_id is not None else true()
    cards = session.execute(
        select(LedgerEntry.account, LedgerEntry.asset, func.sum(LedgerEntry.amount))
        .where(entries, text(CARD_LEGS))
        .group_by(LedgerEntry.account, LedgerEntry.asset)
        .having(func.sum(LedgerEntry.amount) < 0)
        .limit(limit)
    ).all()
    accounts = LedgerAccount.program_id == program_id if program_id is not None else true()
    credit = session.execute(
        select(LedgerAccount.member_id, LedgerAccount.account, LedgerAccount.balance)
        .where(accounts, LedgerAccount.account.in_([money.value for money in MoneyAccount]), LedgerAccount.balance < 0)
        .limit(limit)
    ).all()
    return [Problem("money_not_negative", f"{account} holds {total} {asset}") for account, asset, total in cards] + [
        Problem("money_not_negative", f"{name} of member {member_id} holds {balance}")
        for member_id, name, balance in credit
    ]


def _accounts(session: Session, program_id: int | None, limit: int) -> list[Problem]:
    """Each member account's stored balance and debt line against its entries, and what its lots opened."""
    entry, account = LedgerEntry, LedgerAccount
    in_program = (lambda column: column == program_id) if program_id is not None else (lambda _: true())
    sums = (
        select(
            entry.member_id,
            entry.account,
            func.sum(entry.amount).label("balance"),
            func.sum(case((entry.lot_id.is_(None), entry.amount), else_=0)).label("unbacked"),
        )
        .where(in_program(entry.program_id), entry.member_id.is_not(None))
        .group_by(entry.member_id, entry.account)
        .subquery()
    )
    same_account = and_(account.member_id == sums.c.member_id, account.account == sums.c.account)
    drifted = session.execute(
        select(sums.c.member_id, sums.c.account, sums.c.balance, sums.c.unbacked, account.balance, account.unbacked)
        .outerjoin(account, same_account)
        .where(
            account.member_id.is_(None) | (account.balance != sums.c.balance) | (account.unbacked != sums.c.unbacked)
        )
        .limit(limit)
    ).all()
    without_entries = session.execute(
        select(account.member_id, account.account, account.balance, account.unbacked)
        .where(
            in_program(account.program_id),
            (account.balance != 0) | (account.unbacked != 0),
            ~exists().where(entry.member_id == account.member_id, entry.account == account.account),
        )
        .limit(limit)
    ).all()
    problems = [
        Problem(
            "account_equals_entries",
            f"{name} of member {member_id} stores {stored} (debt line {stored_unbacked}),"
            f" its entries say {total} (debt line {unbacked})",
        )
        for member_id, name, total, unbacked, stored, stored_unbacked in drifted
    ]
    problems += [
        Problem(
            "account_equals_entries", f"{name} of member {member_id} stores {stored} ({unbacked}) and has no entries"
        )
        for member_id, name, stored, unbacked in without_entries
    ]
    earned = select(Lot.member_id, func.sum(Lot.amount).label("opened")).where(in_program(Lot.program_id))
    earned_by_member = earned.group_by(Lot.member_id).subquery()
    opened = (
        select(account.member_id, func.sum(account.opened).label("opened"))
        .where(in_program(account.program_id))
        .group_by(account.member_id)
        .subquery()
    )
    unopened = session.execute(
        select(earned_by_member.c.member_id, earned_by_member.c.opened, opened.c.opened)
        .outerjoin(opened, opened.c.member_id == earned_by_member.c.member_id)
        .where(opened.c.opened.is_(None) | (opened.c.opened != earned_by_member.c.opened))
        .limit(limit)
    ).all()
    return problems + [
        Problem("account_equals_lots", f"member {member_id}'s lots opened {lots} points, the accounts say {total}")
        for member_id, lots, total in unopened
    ]
