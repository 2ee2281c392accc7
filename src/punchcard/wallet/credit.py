"""A member's store credit: granted by staff with a reason, paid into by refunds, spent at checkout, and bought
with points at the program's rate.

Every movement takes the member's row lock first (the same lock as their points, so a conversion moves both under
one lock) and reads the balance from their account row under it. Each is exactly once per ``Idempotency-Key``
(``wallet.operations``). Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.ledger import money
from punchcard.ledger.account import open_account
from punchcard.ledger.domain import EntryKind, MoneyAccount
from punchcard.ledger.posting import MoneyPosting, Posting
from punchcard.member import service as members
from punchcard.member.service import Member
from punchcard.outbox import service as outbox
from punchcard.wallet.domain import Refusal, Terms, WalletRefused, spend_credit
from punchcard.wallet.errors import as_error
from punchcard.wallet.events import PointsConverted, StoreCreditGranted, StoreCreditSpent
from punchcard.wallet.operations import Asked, Outcome, remember, replayed
from punchcard.wallet.service import money_text

CONVERTED = "Converted to store credit"


def view(session: Session, terms: Terms, member: Member, *, history: int = 0) -> dict[str, Any]:
    """The member's store credit; with ``history``, that many of their latest money movements."""
    currency = terms.currency
    found = money.credit(session, member.id)
    shown: dict[str, Any] = {
        "currency": currency,
        "balance": money_text(found.available, currency),
        "pending": money_text(found.pending, currency),
    }
    if history:
        shown["history"] = [_line(entry, currency) for entry in money.money_history(session, member.id, history)]
    return shown


def _line(entry: Any, currency: str) -> dict[str, Any]:
    return {
        "kind": entry.kind,
        "amount": money_text(entry.amount, currency),
        "pending": entry.account == MoneyAccount.PENDING_STORE_CREDIT.value,
        "order_id": entry.order_id,
        "description": entry.description,
        "occurred_at": entry.occurred_at.isoformat(),
    }


@dataclass(frozen=True)
class Movement:
    """A movement of a member's store credit: ``amount_minor`` for ``order_id`` or for ``reason``."""

    amount_minor: int
    order_id: str | None = None
    reason: str = ""


def _start(session: Session, terms: Terms, member: Member, asked: Asked) -> Outcome | None:
    """The first answer to ``asked`` if there was one, else the member locked for a new operation."""
    if (found := replayed(session, terms.program_id, asked)) is not None:
        return found
    members.lock_id(session, member.id)
    return replayed(session, terms.program_id, asked)


def _posting(terms: Terms, asked: Asked, now: datetime, order_id: str | None) -> MoneyPosting:
    return MoneyPosting(terms.program_id, terms.version, terms.currency, now, now, asked.operation, order_id)


def _answer(
    session: Session,
    terms: Terms,
    member: Member,
    asked: Asked,
    event: StoreCreditGranted | StoreCreditSpent | PointsConverted,
    now: datetime,
    **shown: Any,
) -> Outcome:
    outbox.publish(session, [event], now)
    body = {**shown, "store_credit": view(session, terms, member)}
    return remember(session, terms.program_id, asked, Outcome(201, body), now)


def grant(session: Session, terms: Terms, member: Member, asked: Asked, movement: Movement, now: datetime) -> Outcome:
    """Staff give ``movement.amount_minor`` of credit for ``movement.reason`` (goodwill, a correction)."""
    if (found := _start(session, terms, member, asked)) is not None:
        return found
    legs = [_leg(terms, asked, now, movement, member, EntryKind.ADJUST, movement.amount_minor)]
    return _credited(session, terms, member, asked, movement, legs, now)


def refund(session: Session, terms: Terms, member: Member, asked: Asked, movement: Movement, now: datetime) -> Outcome:
    """A refund of an order paid into the member's credit: what their credit paid for the order comes back to it,
    and anything more (the part paid by card or cash) is new credit the shop issues."""
    if (found := _start(session, terms, member, asked)) is not None:
        return found
    assert movement.order_id is not None
    paid = max(0, -money.credit_order_net(session, member.id, movement.order_id))
    back = min(paid, movement.amount_minor)
    legs = [
        _leg(terms, asked, now, movement, member, kind, amount)
        for kind, amount in ((EntryKind.REFUND, back), (EntryKind.ISSUE, movement.amount_minor - back))
        if amount
    ]
    return _credited(session, terms, member, asked, movement, legs, now)


def _leg(
    terms: Terms,
    asked: Asked,
    now: datetime,
    movement: Movement,
    member: Member,
    kind: EntryKind,
    amount: int,
) -> dict[str, object]:
    posting = _posting(terms, asked, now, movement.order_id)
    return posting.entry(
        MoneyAccount.STORE_CREDIT.value, kind, amount, member_id=member.id, description=_described(kind, movement)
    )


def _described(kind: EntryKind, movement: Movement) -> str:
    """What a leg says it was: the staff's reason, the order paid or refunded."""
    if movement.reason:
        return movement.reason[:500]
    if kind is EntryKind.SPEND:
        return f"Order {movement.order_id}"
    return f"Refund of order {movement.order_id}"


def _credited(
    session: Session,
    terms: Terms,
    member: Member,
    asked: Asked,
    movement: Movement,
    legs: Sequence[dict[str, object]],
    now: datetime,
) -> Outcome:
    money.write(session, legs)
    after = money.credit(session, member.id).available
    event = StoreCreditGranted(
        program_id=terms.program_id,
        member_id=member.id,
        occurred_at=now,
        amount_minor=movement.amount_minor,
        balance_minor=after,
        currency=terms.currency,
        reason=movement.reason or "refund",
        order_id=movement.order_id,
    )
    shown = {"amount": money_text(movement.amount_minor, terms.currency), "order_id": movement.order_id}
    return _answer(session, terms, member, asked, event, now, **shown)


def spend(session: Session, terms: Terms, member: Member, asked: Asked, movement: Movement, now: datetime) -> Outcome:
    """Pay ``movement.amount_minor`` of an order from the member's credit: all of it or nothing."""
    members.check_active(member)
    if (found := _start(session, terms, member, asked)) is not None:
        return found
    assert movement.order_id is not None
    try:
        after = spend_credit(money.credit(session, member.id).available, movement.amount_minor)
    except WalletRefused as refused:
        raise as_error(refused) from None
    money.write(session, [_leg(terms, asked, now, movement, member, EntryKind.SPEND, -movement.amount_minor)])
    event = StoreCreditSpent(
        program_id=terms.program_id,
        member_id=member.id,
        occurred_at=now,
        amount_minor=movement.amount_minor,
        balance_minor=after,
        currency=terms.currency,
        order_id=movement.order_id,
    )
    shown = {"amount": money_text(movement.amount_minor, terms.currency), "order_id": movement.order_id}
    return _answer(session, terms, member, asked, event, now, **shown)


def convert(session: Session, terms: Terms, member: Member, asked: Asked, points: int, now: datetime) -> Outcome:
    """Exchange the member's points for store credit at the program's rate (``store_credit.conversion``): the points
    are spent soonest-expiring first, the credit is theirs at once."""
    if terms.conversion is None:
        raise as_error(WalletRefused(Refusal.CONVERSION_NOT_OFFERED, "this program does not convert points to credit"))
    members.check_active(member)
    try:
        spent, credit = terms.conversion.of(points)
    except WalletRefused as refused:
        raise as_error(refused) from None
    if (found := replayed(session, terms.program_id, asked)) is not None:
        return found
    posting = Posting(terms.program_id, member.id, terms.version, now, now, operation=asked.operation)
    account = open_account(session, posting)  # the member's lock, and their points settled (expiry) first
    if (found := replayed(session, terms.program_id, asked)) is not None:
        return found
    account.spend(spent, kind=EntryKind.CONVERT, description=CONVERTED)
    movement = Movement(credit, reason=CONVERTED)
    money.write(session, [_leg(terms, asked, now, movement, member, EntryKind.CONVERT, credit)])
    after = money.credit(session, member.id).available
    event = PointsConverted(
        program_id=terms.program_id,
        member_id=member.id,
        occurred_at=now,
        amount_minor=credit,
        balance_minor=after,
        currency=terms.currency,
        points=spent,
    )
    shown = {"points": spent, "amount": money_text(credit, terms.currency)}
    return _answer(session, terms, member, asked, event, now, **shown)
