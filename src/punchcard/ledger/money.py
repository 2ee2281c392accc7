"""Money in the ledger: members' store credit and gift cards' own accounts, in the program's currency, in minor units.

Money is written like points (``service.write``: a group of legs is one transfer, balanced per asset by the program
account of each leg's kind) but has no lots: a balance is the sum of its account's legs. A member's money accounts
are in ``ledger_accounts`` like their points (kept by the same triggers); a gift card's balance is summed from its few
legs, under the card's lock, through a partial index that holds only cards' legs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, func, select, text
from sqlalchemy.orm import Session

from punchcard.ledger import service
from punchcard.ledger.domain import POINT_ASSETS, EntryKind, MoneyAccount, gift_card_account
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
