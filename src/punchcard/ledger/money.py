"""Money in the ledger: members' store credit and gift cards' own accounts, in the program's currency, in minor units.

Money is written like points (``service.write``: a group of legs is one transfer, balanced per asset by the program
account of each leg's kind) but has no lots: a balance is the sum of its account's legs. A member's money accounts
are in ``ledger_accounts`` like their points (kept by the same triggers); a gift card's balance is summed from its few
legs, under the card's lock, through a partial index that holds only cards' legs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select, text
from sqlalchemy.orm import Session

from punchcard.ledger import service
from punchcard.ledger.domain import GIFT_CARD_ACCOUNT, POINT_ASSETS, EntryKind, MoneyAccount, gift_card_account
from punchcard.ledger.models import CARD_LEGS, LedgerAccount, LedgerEntry
from punchcard.ledger.posting import MoneyPosting as MoneyPosting


def post(
    session: Session,
    posting: MoneyPosting,
    account: str,
    kind: EntryKind,
    amount: int,
    *,
    member_id: int | None = None,
    description: str = "",
) -> None:
    """One movement of ``amount`` onto ``account`` (negative: off it) and the program's leg that balances it."""
    write(session, [posting.entry(account, kind, amount, member_id=member_id, description=description)])


def write(session: Session, legs: Sequence[dict[str, object]]) -> None:
    """Money legs (``MoneyPosting.entry``) as one transfer, with the program's legs that balance each kind."""
    service.write(session, legs)


def _card_legs(card_id: int) -> ColumnElement[bool]:
    """The card's legs, with the partial index's own predicate so that the planner uses it."""
    return and_(LedgerEntry.account == gift_card_account(card_id), text(CARD_LEGS))


def card_balance(session: Session, card_id: int) -> int:
    """What is left on the card: the sum of its account's legs."""
    query = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(_card_legs(card_id))
    return int(session.execute(query).scalar_one())


def card_totals(session: Session, card_id: int) -> dict[str, int]:
    """The card's legs summed by kind (``issue``, ``spend``, ``refund``, ``expire``)."""
    query = select(LedgerEntry.kind, func.sum(LedgerEntry.amount)).where(_card_legs(card_id)).group_by(LedgerEntry.kind)
    return {kind: int(total) for kind, total in session.execute(query).all()}


def card_order_net(session: Session, card_id: int, order_id: str) -> int:
    """What the card gained (positive) or paid (negative) for ``order_id``, spends and refunds together."""
    query = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        _card_legs(card_id), LedgerEntry.order_id == order_id
    )
    return int(session.execute(query).scalar_one())


@dataclass(frozen=True)
class Credit:
    """A member's store credit: spendable, and cashback still inside the return window."""

    available: int
    pending: int


def credit(session: Session, member_id: int) -> Credit:
    """The member's store credit, from their account rows (one indexed lookup)."""
    rows = dict(
        session.execute(
            select(LedgerAccount.account, LedgerAccount.balance).where(
                LedgerAccount.member_id == member_id,
                LedgerAccount.account.in_([account.value for account in MoneyAccount]),
            )
        ).all()
    )
    return Credit(
        int(rows.get(MoneyAccount.STORE_CREDIT.value, 0)), int(rows.get(MoneyAccount.PENDING_STORE_CREDIT.value, 0))
    )


def credit_order_net(session: Session, member_id: int, order_id: str) -> int:
    """What the member's spendable credit gained or paid for ``order_id``."""
    query = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.member_id == member_id,
        LedgerEntry.account == MoneyAccount.STORE_CREDIT.value,
        LedgerEntry.order_id == order_id,
    )
    return int(session.execute(query).scalar_one())


def money_history(session: Session, member_id: int, limit: int) -> Sequence[LedgerEntry]:
    """The member's money entries, newest first."""
    query = (
        select(LedgerEntry)
        .where(LedgerEntry.member_id == member_id, LedgerEntry.asset.not_in(POINT_ASSETS))
        .order_by(LedgerEntry.id.desc())
        .limit(limit)
    )
    return session.execute(query).scalars().all()


def card_history(session: Session, card_id: int) -> Sequence[LedgerEntry]:
    """The card's legs, oldest first."""
    query = select(LedgerEntry).where(_card_legs(card_id)).order_by(LedgerEntry.id)
    return session.execute(query).scalars().all()


def card_balances(session: Session, card_ids: Sequence[int]) -> dict[int, int]:
    """What is left on each of ``card_ids`` that has legs, in one grouped query (a page of the console's list)."""
    if not card_ids:
        return {}
    accounts = {gift_card_account(card_id): card_id for card_id in card_ids}
    query = (
        select(LedgerEntry.account, func.sum(LedgerEntry.amount))
        .where(LedgerEntry.account.in_(list(accounts)), text(CARD_LEGS))
        .group_by(LedgerEntry.account)
    )
    return {accounts[account]: int(total) for account, total in session.execute(query).all()}


GIFT_CARDS = "gift_card"
"""What ``flows`` calls all gift cards' accounts together."""


@dataclass(frozen=True)
class Flow:
    """The legs of one kind on one holder's accounts: what they put on (``added``, positive) and took off
    (``removed``, negative or zero), in all and since a moment."""

    added: int = 0
    removed: int = 0
    added_since: int = 0
    removed_since: int = 0


def flows(session: Session, program_id: int, currency: str, since: datetime) -> dict[tuple[str, str], Flow]:
    """The program's money legs in ``currency`` summed by holder and kind, in one grouped query over the legs of the
    holders' side (the program's accounts only mirror them): the holder is ``GIFT_CARDS`` for every card's account,
    else the member account (``store_credit``, ``pending_store_credit``)."""
    entry = LedgerEntry
    holder = case((entry.account.like(f"{GIFT_CARD_ACCOUNT}%"), GIFT_CARDS), else_=entry.account).label("holder")
    inner = (
        select(holder, entry.kind, entry.amount, entry.occurred_at)
        .where(entry.program_id == program_id, entry.asset == currency, entry.account.not_like("program:%"))
        .subquery()
    )
    amount, recent = inner.c.amount, inner.c.occurred_at >= since

    def total(condition: ColumnElement[bool]) -> ColumnElement[Any]:
        return func.coalesce(func.sum(case((condition, amount), else_=0)), 0)

    rows = session.execute(
        select(
            inner.c.holder,
            inner.c.kind,
            total(amount > 0),
            total(amount < 0),
            total((amount > 0) & recent),
            total((amount < 0) & recent),
        ).group_by(inner.c.holder, inner.c.kind)
    ).all()
    return {
        (str(holder_name), str(kind)): Flow(int(added), int(removed), int(added_since), int(removed_since))
        for holder_name, kind, added, removed, added_since, removed_since in rows
    }
