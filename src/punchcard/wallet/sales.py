"""Gift cards sold as products: a purchase line of a sku in the program's ``gift_cards.products`` sells one card per
unit, of the product's amount.

The cards are issued when the order's return window closes (at once in a program without one), so that a card
refunded inside the window is never issued: a refund of the line, or of the whole order, before then takes its units
off the sale. The buyer is the card's member; its code is kept in clear (``GiftCard.delivery_code``) only until the
mail that sends it to them is sent (``mailing``, ``delivered``). Callers hold the buyer's row lock (the event path
does; ``issue_due`` takes it). Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from punchcard.kit.events import DomainEvent
from punchcard.member import service as members
from punchcard.outbox import service as outbox
from punchcard.wallet import repository, service
from punchcard.wallet.domain import Terms
from punchcard.wallet.models import GiftCardSale


def record(
    session: Session,
    terms: Terms,
    *,
    member_id: int,
    order_id: str,
    lines: Sequence[tuple[str, Decimal]],
    due_at: datetime | None,
    now: datetime,
) -> list[DomainEvent]:
    """Sell the gift-card units among ``lines`` (sku, quantity); with no return window (``due_at`` ``None``) their
    cards are issued now, and their events returned."""
    bought: dict[str, int] = {}
    for sku, quantity in lines:
        if terms.gift_cards.product(sku) is not None:
            bought[sku] = bought.get(sku, 0) + int(quantity)  # a card is a whole unit
    events: list[DomainEvent] = []
    for sku, units in bought.items():
        product = terms.gift_cards.product(sku)
        assert product is not None
        repository.add_sale(
            session,
            program_id=terms.program_id,
            member_id=member_id,
            order_id=order_id,
            sku=sku,
            quantity=units,
            refunded=0,
            amount_minor=product.amount_minor,
            due_at=due_at or now,
            issued_at=None,
        )
        if due_at is None:
            [sale] = [row for row in repository.sales_of(session, terms.program_id, order_id) if row.sku == sku]
            events += _issue(session, terms, sale, now)
    return events


def refund(session: Session, terms: Terms, *, order_id: str, refunded: Mapping[str, Decimal], whole: bool) -> None:
    """Take refunded units off the order's sales not issued yet: the refunded skus' quantities, or every unit when
    the order is refunded whole. A card already issued stays (the shop may disable it)."""
    for sale in repository.sales_of(session, terms.program_id, order_id):
        if sale.issued_at is not None:
            continue
        back = sale.quantity if whole else int(refunded.get(sale.sku, Decimal(0)))
        sale.refunded = min(sale.quantity, sale.refunded + back)
    session.flush()


def _issue(session: Session, terms: Terms, sale: GiftCardSale, now: datetime) -> list[DomainEvent]:
    buyer = members.by_id(session, terms.program_id, sale.member_id)
    events: list[DomainEvent] = []
    for unit in range(sale.quantity - sale.refunded):
        spec = service.Issue(
            sale.amount_minor,
            terms.currency,
            recipient_email=buyer.email if buyer else None,
            member_id=sale.member_id,
            order_id=sale.order_id,
            sale_ref=f"{sale.order_id}/{sale.sku}/{unit}"[:300],
            source="sale",
        )
        card, code, event = service.issue(session, terms, spec, now)
        card.delivery_code = code
        events.append(event)
    sale.issued_at = now
    session.flush()
    return events


def issue_due(session: Session, terms: Terms, *, at: datetime, now: datetime, limit: int = 200) -> int:
    """Issue the cards of sales whose return window closed by ``at``; returns the sales done (the jobs run it until
    none is left)."""
    done = 0
    for row_id, member_id in repository.sales_due(session, terms.program_id, at, limit):
        members.lock_id(session, member_id)
        sale = repository.sale_by_id(session, row_id)
        if sale.issued_at is not None:
            continue  # issued meanwhile by another run
        outbox.publish(session, _issue(session, terms, sale, now), now)
        done += 1
    return done


def delivery_code(session: Session, program_id: int, card_id: int) -> str | None:
    """A sold card's code, while its delivery is still to be made."""
    card = repository.card(session, program_id, card_id)
    return card.delivery_code if card is not None else None


def delivered(session: Session, program_id: int, card_id: int) -> None:
    """The code has reached the buyer: keep it no longer."""
    card = repository.card(session, program_id, card_id)
    if card is not None:
        card.delivery_code = None
        session.flush()
