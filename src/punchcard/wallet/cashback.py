"""Cashback: the store credit an order earns by the program's cashback rules (``then: {cashback_percent: ...}``).

Inside the program's return window it waits in the member's ``pending_store_credit`` and the jobs move it to
``store_credit`` when the window closes; a refund takes back the refunded lines' share (or the refunded fraction of
an amount) from wherever it is. Money never goes below zero: what the member already spent of vested cashback is
forgiven and said so. Callers hold the member's row lock (the event path does; ``vest_due`` takes it). Nothing here
commits.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from punchcard.ledger import money
from punchcard.ledger.domain import EntryKind, MoneyAccount
from punchcard.ledger.posting import MoneyPosting
from punchcard.member import service as members
from punchcard.wallet import repository
from punchcard.wallet.domain import CashbackLine, Terms, cashback_due
from punchcard.wallet.events import CashbackEarned, CashbackReversed
from punchcard.wallet.models import CashbackCredit


def _posting(terms: Terms, order_id: str, at: datetime, now: datetime, event_id: int | None) -> MoneyPosting:
    operation = f"cashback:{order_id}"[:64]
    return MoneyPosting(terms.program_id, terms.version, terms.currency, at, now, operation, order_id, event_id)


def earn(
    session: Session,
    terms: Terms,
    *,
    member_id: int,
    order_id: str,
    shares: dict[str, int],
    quantities: dict[str, Decimal],
    occurred_at: datetime,
    available_at: datetime | None,
    now: datetime,
    event_id: int | None,
) -> CashbackEarned | None:
    """Credit an order's cashback (``shares``: minor units per sku): pending until ``available_at`` when given."""
    total = sum(shares.values())
    if total <= 0:
        return None
    account = MoneyAccount.PENDING_STORE_CREDIT if available_at is not None else MoneyAccount.STORE_CREDIT
    posting = _posting(terms, order_id, occurred_at, now, event_id)
    money.post(session, posting, account.value, EntryKind.EARN, total, member_id=member_id, description=_said(order_id))
    repository.add_cashback(
        session,
        program_id=terms.program_id,
        member_id=member_id,
        order_id=order_id,
        amount_minor=total,
        reversed_minor=0,
        lines={
            sku: {"quantity": str(quantities[sku]), "minor": minor, "refunded": "0"} for sku, minor in shares.items()
        },
        available_at=available_at,
        vested_at=None,
        created_at=now,
    )
    return CashbackEarned(
        program_id=terms.program_id,
        member_id=member_id,
        occurred_at=occurred_at,
        amount_minor=total,
        balance_minor=money.credit(session, member_id).available,
        currency=terms.currency,
        order_id=order_id,
        pending=available_at is not None,
        available_at=available_at,
    )


def _said(order_id: str) -> str:
    return f"Cashback on order {order_id}"[:500]


def _lines(row: CashbackCredit) -> dict[str, CashbackLine]:
    return {
        sku: CashbackLine(Decimal(line["quantity"]), int(line["minor"]), Decimal(line["refunded"]))
        for sku, line in row.lines.items()
    }


def reverse(
    session: Session,
    terms: Terms,
    *,
    member_id: int,
    order_id: str,
    refunded: dict[str, Decimal],
    fraction: Decimal,
    occurred_at: datetime,
    now: datetime,
    event_id: int | None,
) -> CashbackReversed | None:
    """Take back what a refund of ``order_id`` undoes of its cashback: the ``refunded`` skus' shares, or (a refund of
    an amount) the order's cumulative refunded ``fraction`` of it."""
    row = repository.cashback(session, terms.program_id, order_id)
    if row is None:
        return None
    due, after = cashback_due(
        _lines(row), refunded, fraction if not refunded else None, row.amount_minor, row.reversed_minor
    )
    row.lines = {
        sku: {"quantity": str(line.quantity), "minor": line.minor, "refunded": str(line.refunded)}
        for sku, line in after.items()
    }
    if due <= 0:
        return None
    pending = row.vested_at is None and row.available_at is not None
    account = MoneyAccount.PENDING_STORE_CREDIT if pending else MoneyAccount.STORE_CREDIT
    taken = due if pending else min(due, money.credit(session, member_id).available)
    if taken:
        posting = _posting(terms, order_id, occurred_at, now, event_id)
        text = f"Refund of order {order_id}: cashback taken back"
        money.post(session, posting, account.value, EntryKind.REVERSE, -taken, member_id=member_id, description=text)
    row.reversed_minor += due  # what was forgiven too: a later refund does not ask for it again
    session.flush()
    return CashbackReversed(
        program_id=terms.program_id,
        member_id=member_id,
        occurred_at=occurred_at,
        amount_minor=taken,
        balance_minor=money.credit(session, member_id).available,
        currency=terms.currency,
        order_id=order_id,
        not_taken_back=due - taken,
    )


def vest_due(session: Session, terms: Terms, *, at: datetime, now: datetime, limit: int = 500) -> int:
    """Move cashback whose return window closed by ``at`` from pending to spendable, dated when it closed; returns
    the orders done (the jobs run it until none is left)."""
    done = 0
    for row_id, member_id in repository.cashback_vesting(session, terms.program_id, at, limit):
        members.lock_id(session, member_id)
        row = repository.cashback_by_id(session, row_id)
        if row.vested_at is not None or row.available_at is None:
            continue  # vested meanwhile by another run
        left = row.amount_minor - row.reversed_minor
        if left > 0:
            posting = _posting(terms, row.order_id, row.available_at, now, None)
            text = "Return window closed: cashback available"
            legs = [
                posting.entry(
                    MoneyAccount.PENDING_STORE_CREDIT.value,
                    EntryKind.VEST,
                    -left,
                    member_id=member_id,
                    description=text,
                ),
                posting.entry(
                    MoneyAccount.STORE_CREDIT.value, EntryKind.VEST, left, member_id=member_id, description=text
                ),
            ]
            money.write(session, legs)
        row.vested_at = now
        done += 1
    session.flush()
    return done
