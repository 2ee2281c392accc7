"""Gift cards: issue, look up (with the guessing limit), redeem in part, refund to the card, disable, expire.

Every movement of a card's money takes the card's row lock first and reads the balance from its ledger legs under
it, so concurrent redemptions of one card queue and each sees what the other left (PostgreSQL ``FOR UPDATE``; SQLite
serialises writers). A failed lookup is written down by the caller after its transaction is rolled back
(``note_failure``), so that the count survives the error it causes. Nothing here commits.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from punchcard.kit.errors import Unprocessable
from punchcard.kit.money import format_amount, from_minor
from punchcard.ledger import money
from punchcard.ledger.domain import EntryKind, gift_card_account
from punchcard.ledger.posting import MoneyPosting
from punchcard.outbox import service as outbox
from punchcard.wallet import repository
from punchcard.wallet.domain import (
    Card,
    LookupLimits,
    Terms,
    WalletRefused,
    code_hash,
    grouped,
    is_well_formed,
    new_code,
    normalised,
)
from punchcard.wallet.errors import GiftCardNotFound, LookupsLimited, as_error
from punchcard.wallet.events import (
    GiftCardDisabled,
    GiftCardEvent,
    GiftCardExpired,
    GiftCardIssued,
    GiftCardRedeemed,
    GiftCardRefunded,
)
from punchcard.wallet.models import GiftCard
from punchcard.wallet.operations import Asked, Outcome, remember, replayed

log = logging.getLogger(__name__)
E = TypeVar("E", bound=GiftCardEvent)


class CurrencyMismatch(Unprocessable):
    code = "currency_mismatch"


@dataclass(frozen=True)
class Prober:
    """Who looks a code up, for the guessing limit: their API key (its hash) and their address."""

    key_hash: str
    address: str


def money_text(minor: int, currency: str) -> str:
    return format_amount(from_minor(minor, currency), currency)


def _state(session: Session, card: GiftCard) -> Card:
    return Card(money.card_balance(session, card.id), card.expires_at, card.disabled_at is not None)


def view(card: GiftCard, state: Card, now: datetime) -> dict[str, Any]:
    """A card as the API shows it (never its code: only the one who issued it sees that, once)."""
    return {
        "id": card.id,
        "last4": card.last4,
        "currency": card.currency,
        "balance": money_text(0 if state.is_expired(now) else state.balance, card.currency),
        "initial_amount": money_text(card.amount_minor, card.currency),
        "status": state.status(now),
        "issued_at": card.issued_at.isoformat(),
        "expires_at": card.expires_at.isoformat() if card.expires_at else None,
    }


def _posting(
    terms: Terms,
    card: GiftCard,
    now: datetime,
    operation: str,
    order_id: str | None = None,
    *,
    dated: datetime | None = None,
) -> MoneyPosting:
    """The posting of a card's legs, recorded ``now`` and dated ``dated`` (an expiry) or ``now``."""
    occurred_at = dated if dated is not None else now
    return MoneyPosting(terms.program_id, terms.version, card.currency, occurred_at, now, operation, order_id)


def _event(kind: type[E], card: GiftCard, now: datetime, **facts: Any) -> E:
    return kind(
        program_id=card.program_id,
        member_id=card.member_id,
        occurred_at=now,
        card_id=card.id,
        last4=card.last4,
        currency=card.currency,
        **facts,
    )


# --- issuing ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Issue:
    amount_minor: int
    currency: str
    expires_at: datetime | None = None
    recipient_email: str | None = None
    message: str | None = None
    member_id: int | None = None
    order_id: str | None = None
    sale_ref: str | None = None
    source: str = "api"


def issue(session: Session, terms: Terms, issue: Issue, now: datetime) -> tuple[GiftCard, str, GiftCardIssued]:
    """A new card with ``issue.amount_minor`` on it, its code (shown once, stored only hashed) and its event, for the
    caller to publish (the event path publishes a mechanic's events itself)."""
    if issue.currency != terms.currency:
        raise CurrencyMismatch(
            f"gift cards of this program are in {terms.currency}",
            [{"field": "currency", "expected": terms.currency}],
        )
    try:
        expires_at = terms.gift_cards.expires_at(now, issue.expires_at, terms.zone)
    except WalletRefused as refused:  # not ``_refused_as_errors``: an expiry may be ``None``
        raise as_error(refused) from None
    code = new_code(secrets.randbelow)
    card = repository.add_card(
        session,
        program_id=terms.program_id,
        code_hash=code_hash(code),
        last4=code[-4:],
        currency=issue.currency,
        amount_minor=issue.amount_minor,
        issued_at=now,
        expires_at=expires_at,
        source=issue.source,
        member_id=issue.member_id,
        order_id=issue.order_id,
        sale_ref=issue.sale_ref,
        recipient_email=issue.recipient_email,
        message=issue.message,
    )
    posting = _posting(terms, card, now, f"gift_card:{card.id}", issue.order_id)
    money.post(session, posting, gift_card_account(card.id), EntryKind.ISSUE, issue.amount_minor)
    event = _event(
        GiftCardIssued,
        card,
        now,
        amount_minor=issue.amount_minor,
        expires_at=expires_at,
        order_id=issue.order_id,
        source=issue.source,
    )
    return card, code, event


def issue_once(session: Session, terms: Terms, asked: Asked, spec: Issue, now: datetime) -> Outcome:
    """``issue`` exactly once per ``Idempotency-Key``: a retry gets the same card and code."""
    if (found := replayed(session, terms.program_id, asked)) is not None:
        return found
    card, code, event = issue(session, terms, spec, now)
    outbox.publish(session, [event], now)
    body = {**view(card, Card(spec.amount_minor, card.expires_at, False), now), "code": grouped(code)}
    return remember(session, terms.program_id, asked, Outcome(201, body), now, code=code)


# --- looking up ------------------------------------------------------------------------------------------------------


def look_up(
    session: Session,
    program_id: int,
    limits: LookupLimits,
    prober: Prober,
    typed: str,
    now: datetime,
    *,
    lock: bool,
) -> GiftCard:
    """The card with the code ``typed``, unless the prober has failed too often lately (429). A code that is not
    well formed fails like an unknown one, without a query."""
    by_key, by_address = repository.failures_since(
        session, program_id, prober.key_hash, prober.address, now - limits.window
    )
    if limits.exceeded(by_key, by_address):
        error = LookupsLimited(
            "too many gift card codes that matched no card were tried; try again later",
            [{"retry_after_seconds": int(limits.window.total_seconds())}],
        )
        error.headers = {"Retry-After": str(int(limits.window.total_seconds()))}
        raise error
    code = normalised(typed)
    card = repository.card_by_hash(session, program_id, code_hash(code), lock=lock) if is_well_formed(code) else None
    if card is None:
        raise GiftCardNotFound("no gift card has this code", [{"tried": code[-4:]}])
    return card


def note_failure(session: Session, program_id: int, prober: Prober, typed: str, now: datetime) -> None:
    """Write down (and log) a lookup that matched no card; the caller commits it although its request failed."""
    tried = normalised(typed)[-4:]
    log.warning(
        "gift card lookup failed: program %s, key %s…, address %s, code ending %r",
        program_id,
        prober.key_hash[:8],
        prober.address,
        tried,
    )
    repository.add_failure(
        session, program_id=program_id, key_hash=prober.key_hash, address=prober.address, tried=tried, attempted_at=now
    )


def balance(session: Session, terms: Terms, prober: Prober, typed: str, now: datetime) -> dict[str, Any]:
    card = look_up(session, terms.program_id, terms.gift_cards.limits, prober, typed, now, lock=False)
    return view(card, _state(session, card), now)


def bought_by(session: Session, terms: Terms, member_id: int, now: datetime) -> list[dict[str, Any]]:
    """The gift cards the member bought (a sale's cards, the member their buyer), newest first, as ``view`` shows
    them: never their codes."""
    found = repository.cards_of_member(session, terms.program_id, member_id)
    return [view(card, _state(session, card), now) for card in found]


# --- moving money ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Move:
    """A redemption or a refund of ``amount_minor`` for ``order_id``."""

    amount_minor: int
    order_id: str


def _locked(
    session: Session, terms: Terms, prober: Prober, typed: str, asked: Asked, now: datetime
) -> tuple[GiftCard, Card] | Outcome:
    """The card, locked, with its state; or the first answer to ``asked`` (looked for again once the lock is held:
    the same request sent twice at once waits here for the first)."""
    if (found := replayed(session, terms.program_id, asked)) is not None:
        return found
    card = look_up(session, terms.program_id, terms.gift_cards.limits, prober, typed, now, lock=True)
    if (found := replayed(session, terms.program_id, asked)) is not None:
        return found
    return card, _state(session, card)


def redeem(
    session: Session, terms: Terms, prober: Prober, typed: str, asked: Asked, move: Move, now: datetime
) -> Outcome:
    """Pay ``move.amount_minor`` of an order from the card: all of it or nothing."""
    found = _locked(session, terms, prober, typed, asked, now)
    if isinstance(found, Outcome):
        return found
    card, state = found
    after = _refused_as_errors(lambda: state.spend(move.amount_minor, now))
    posting = _posting(terms, card, now, asked.operation, move.order_id)
    money.post(session, posting, gift_card_account(card.id), EntryKind.SPEND, -move.amount_minor)
    event = _event(
        GiftCardRedeemed, card, now, amount_minor=move.amount_minor, balance_minor=after, order_id=move.order_id
    )
    outbox.publish(session, [event], now)
    body = _moved(card, Card(after, card.expires_at, False), move, now)
    return remember(session, terms.program_id, asked, Outcome(201, body), now)


def refund(
    session: Session, terms: Terms, prober: Prober, typed: str, asked: Asked, move: Move, now: datetime
) -> Outcome:
    """Put ``move.amount_minor`` back on the card, up to what it paid for the order less what came back already."""
    found = _locked(session, terms, prober, typed, asked, now)
    if isinstance(found, Outcome):
        return found
    card, state = found
    spent = -money.card_order_net(session, card.id, move.order_id)
    after = _refused_as_errors(lambda: state.refund(move.amount_minor, spent, now))
    posting = _posting(terms, card, now, asked.operation, move.order_id)
    money.post(session, posting, gift_card_account(card.id), EntryKind.REFUND, move.amount_minor)
    event = _event(
        GiftCardRefunded, card, now, amount_minor=move.amount_minor, balance_minor=after, order_id=move.order_id
    )
    outbox.publish(session, [event], now)
    body = _moved(card, Card(after, card.expires_at, False), move, now)
    return remember(session, terms.program_id, asked, Outcome(201, body), now)


def _moved(card: GiftCard, state: Card, move: Move, now: datetime) -> dict[str, Any]:
    return {
        "amount": money_text(move.amount_minor, card.currency),
        "order_id": move.order_id,
        "gift_card": view(card, state, now),
    }


def _refused_as_errors(decide: Callable[[], int]) -> int:
    """``decide()``, a ``WalletRefused`` raised as the API's error."""
    try:
        return decide()
    except WalletRefused as refused:
        raise as_error(refused) from None


def disable(session: Session, terms: Terms, prober: Prober, typed: str, reason: str, now: datetime) -> dict[str, Any]:
    """Stop the card from paying or taking refunds (a lost or stolen card, fraud). Its money stays on its account,
    a liability still; disabling again changes nothing."""
    card = look_up(session, terms.program_id, terms.gift_cards.limits, prober, typed, now, lock=True)
    return disable_card(session, card, reason, now)


def disable_card(session: Session, card: GiftCard, reason: str, now: datetime) -> dict[str, Any]:
    state = _state(session, card)
    if card.disabled_at is None:
        card.disabled_at, card.disabled_reason = now, reason
        session.flush()
        event = _event(GiftCardDisabled, card, now, balance_minor=state.balance, reason=reason)
        outbox.publish(session, [event], now)
    return view(card, Card(state.balance, card.expires_at, True), now)


def card_by_id(session: Session, program_id: int, card_id: int) -> GiftCard:
    card = repository.card(session, program_id, card_id, lock=True)
    if card is None:
        raise GiftCardNotFound(f"no gift card with id {card_id}", [{"id": card_id}])
    return card


# --- expiry ----------------------------------------------------------------------------------------------------------


def expire_due(session: Session, terms: Terms, *, at: datetime, now: datetime, limit: int = 500) -> int:
    """Write what is left on cards expired by ``at`` off to breakage, dated at each card's expiry; returns the cards
    done (the jobs run it until none is left)."""
    done = 0
    for card_id in repository.expiring(session, terms.program_id, at, limit):
        card = repository.card(session, terms.program_id, card_id, lock=True)
        if card is None or card.expired_at is not None or card.expires_at is None:
            continue  # written off meanwhile by another run
        left = money.card_balance(session, card.id)
        if left > 0:
            posting = _posting(terms, card, now, f"gift_card:{card.id}", dated=card.expires_at)
            money.post(session, posting, gift_card_account(card.id), EntryKind.EXPIRE, -left)
            outbox.publish(session, [_event(GiftCardExpired, card, card.expires_at, amount_minor=left)], now)
        card.expired_at = now
        done += 1
    session.flush()
    return done
