"""What the console shows of the wallet, read only: the program's gift cards (newest first, found by the last four
symbols of their code) and one card with its ledger history, a member's store credit and its latest movements, and
the program's money liability: what is outstanding on gift cards and in store credit now, and what was issued,
redeemed, taken back and written off to breakage this month and in all.

Every amount is in the program's currency, in minor units, summed from the ledger's legs (``ledger.money``): there is
no second figure to drift from the books. Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.kit.calendar import Period, period_start
from punchcard.ledger import money
from punchcard.ledger.domain import EntryKind, MoneyAccount
from punchcard.wallet import repository
from punchcard.wallet.domain import Card, Terms, normalised
from punchcard.wallet.errors import GiftCardNotFound
from punchcard.wallet.models import GiftCard

CARD_PAGE = 50
"""Cards listed at a time."""


# --- gift cards ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardRow:
    """A gift card as the console lists it: never its code, only the code's last four symbols."""

    id: int
    last4: str
    currency: str
    amount_minor: int
    """What it was issued with."""
    balance_minor: int
    """What its ledger legs sum to: an expired card's remainder stays until the jobs write it off to breakage."""
    status: str
    """``active``, ``expired`` or ``disabled`` (``wallet.domain.Card.status``)."""
    issued_at: datetime
    expires_at: datetime | None
    source: str
    order_id: str | None
    recipient_email: str | None
    disabled_at: datetime | None
    disabled_reason: str | None
    written_off_at: datetime | None
    """When the jobs wrote its remainder off to breakage; none before."""

    @property
    def is_disabled(self) -> bool:
        return self.disabled_at is not None


def _row(card: GiftCard, balance: int, now: datetime) -> CardRow:
    return CardRow(
        id=card.id,
        last4=card.last4,
        currency=card.currency,
        amount_minor=card.amount_minor,
        balance_minor=balance,
        status=Card(balance, card.expires_at, card.disabled_at is not None).status(now),
        issued_at=card.issued_at,
        expires_at=card.expires_at,
        source=card.source,
        order_id=card.order_id,
        recipient_email=card.recipient_email,
        disabled_at=card.disabled_at,
        disabled_reason=card.disabled_reason,
        written_off_at=card.expired_at,
    )


def last4_of(typed: str) -> str | None:
    """The last four symbols as staff type them (any case, grouped with spaces or dashes); ``None`` unless that is
    exactly four letters or digits."""
    found = normalised(typed)
    return found if len(found) == 4 and found.isascii() and found.isalnum() else None


@dataclass(frozen=True)
class CardPage:
    cards: list[CardRow]
    next_before: int | None
    """The id to ask ``before`` for the next (older) page; ``None`` on the last page."""


def cards(
    session: Session,
    program_id: int,
    now: datetime,
    *,
    last4: str | None = None,
    before: int | None = None,
    limit: int = CARD_PAGE,
) -> CardPage:
    """The program's cards newest first, ``limit`` at a time (older than the card ``before``); only those whose code
    ends in ``last4`` when given."""
    found = list(repository.cards(session, program_id, last4=last4, before=before, limit=limit + 1))
    shown = found[:limit]
    balances = money.card_balances(session, [card.id for card in shown])
    rows = [_row(card, balances.get(card.id, 0), now) for card in shown]
    return CardPage(rows, shown[-1].id if len(found) > limit else None)


@dataclass(frozen=True)
class CardLine:
    """One leg of the card's account, with what was left on it after."""

    occurred_at: datetime
    kind: str
    amount_minor: int
    balance_minor: int
    order_id: str | None
    operation: str | None


@dataclass(frozen=True)
class CardDetail:
    card: CardRow
    history: list[CardLine]
    """Oldest first."""
    totals: dict[str, int]
    """The legs summed by kind (``issue``, ``spend``, ``refund``, ``expire``)."""


def card(session: Session, program_id: int, card_id: int, now: datetime) -> CardDetail:
    """The program's card ``card_id`` with its ledger history; ``GiftCardNotFound`` when the program has none."""
    found = repository.card(session, program_id, card_id)
    if found is None:
        raise GiftCardNotFound(f"this program has no gift card with id {card_id}", [{"id": card_id}])
    lines: list[CardLine] = []
    totals: dict[str, int] = {}
    balance = 0
    for entry in money.card_history(session, card_id):
        balance += entry.amount
        totals[entry.kind] = totals.get(entry.kind, 0) + entry.amount
        lines.append(CardLine(entry.occurred_at, entry.kind, entry.amount, balance, entry.order_id, entry.operation))
    return CardDetail(_row(found, balance, now), lines, totals)


# --- a member's store credit -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CreditLine:
    occurred_at: datetime
    kind: str
    amount_minor: int
    pending: bool
    """On the member's pending cashback, not their spendable credit."""
    order_id: str | None
    description: str


@dataclass(frozen=True)
class MemberCredit:
    currency: str
    available_minor: int
    pending_minor: int
    latest: list[CreditLine]
    """Newest first."""


def member_credit(session: Session, terms: Terms, member_id: int, *, latest: int = 10) -> MemberCredit:
    """The member's store credit (spendable, and cashback still inside the return window) and their ``latest`` money
    movements."""
    found = money.credit(session, member_id)
    lines = [
        CreditLine(
            entry.occurred_at,
            entry.kind,
            entry.amount,
            entry.account == MoneyAccount.PENDING_STORE_CREDIT.value,
            entry.order_id,
            entry.description,
        )
        for entry in money.money_history(session, member_id, latest)
    ]
    return MemberCredit(terms.currency, found.available, found.pending, lines)


# --- the liability ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Movements:
    """Money that came onto or left a wallet's accounts in some span, each figure positive."""

    issued: int = 0
    """Put on: gift cards issued; store credit granted by staff, paid as new credit by refunds, earned as cashback,
    bought with points."""
    redeemed: int = 0
    """Spent at checkout, less what refunds paid back onto the card or credit it was spent from."""
    taken_back: int = 0
    """Store credit taken off again: cashback that refunds took back, corrections."""
    expired: int = 0
    """Gift cards' remainders written off at their expiry: breakage."""


_ISSUED = (EntryKind.ISSUE, EntryKind.EARN, EntryKind.CONVERT)
_REDEEMED = (EntryKind.SPEND, EntryKind.REFUND)
_TAKEN_BACK = (EntryKind.REVERSE,)


def _movements(flows: dict[tuple[str, str], money.Flow], holders: Sequence[str], *, since: bool) -> Movements:
    def net(kinds: Sequence[EntryKind]) -> int:
        found = 0
        for holder in holders:
            for kind in kinds:
                flow = flows.get((holder, kind.value), money.Flow())
                found += flow.added_since + flow.removed_since if since else flow.added + flow.removed
        return found

    def part(kind: EntryKind, *, added: bool) -> int:
        found = 0
        for holder in holders:
            flow = flows.get((holder, kind.value), money.Flow())
            if added:
                found += flow.added_since if since else flow.added
            else:
                found += flow.removed_since if since else flow.removed
        return found

    adjust = EntryKind.ADJUST
    return Movements(
        issued=net(_ISSUED) + part(adjust, added=True),
        redeemed=-net(_REDEEMED),
        taken_back=-net(_TAKEN_BACK) - part(adjust, added=False),
        expired=-net((EntryKind.EXPIRE,)),
    )


@dataclass(frozen=True)
class Liability:
    """The program's money liability: what its gift cards and members' store credit still hold, and how it moved."""

    currency: str
    month_start: datetime
    """The first instant of the current calendar month in the program's zone: "this month" is from then on."""
    gift_cards: int
    """Outstanding on gift cards, expired ones not yet written off included."""
    store_credit: int
    """Members' spendable store credit."""
    pending_cashback: int
    """Cashback still inside the return window: not spendable yet, and a refund may take it back."""
    gift_cards_month: Movements
    gift_cards_all: Movements
    credit_month: Movements
    credit_all: Movements

    @property
    def total(self) -> int:
        return self.gift_cards + self.store_credit + self.pending_cashback

    @property
    def breakage(self) -> int:
        """All gift-card money written off at expiry."""
        return self.gift_cards_all.expired


_CREDIT = (MoneyAccount.STORE_CREDIT.value, MoneyAccount.PENDING_STORE_CREDIT.value)


def _outstanding(flows: dict[tuple[str, str], money.Flow], holder: str) -> int:
    return sum(flow.added + flow.removed for (name, _), flow in flows.items() if name == holder)


def liability(session: Session, terms: Terms, now: datetime) -> Liability:
    """The liability figures of the program as of ``now``: "this month" is the calendar month of ``now`` in the
    program's zone."""
    month_start = period_start(now, Period.MONTH, terms.zone)
    assert month_start is not None
    flows = money.flows(session, terms.program_id, terms.currency, month_start)
    cards_only = (money.GIFT_CARDS,)
    return Liability(
        currency=terms.currency,
        month_start=month_start,
        gift_cards=_outstanding(flows, money.GIFT_CARDS),
        store_credit=_outstanding(flows, MoneyAccount.STORE_CREDIT.value),
        pending_cashback=_outstanding(flows, MoneyAccount.PENDING_STORE_CREDIT.value),
        gift_cards_month=_movements(flows, cards_only, since=True),
        gift_cards_all=_movements(flows, cards_only, since=False),
        credit_month=_movements(flows, _CREDIT, since=True),
        credit_all=_movements(flows, _CREDIT, since=False),
    )
