"""The gift-card sales mechanic: purchase lines of the skus the program sells as gift cards (``gift_cards.products``)
sell cards, issued when the order's return window closes (``wallet.sales``); a refund inside the window takes the
refunded units off. Live only: an import of past orders issues no cards.

Cost on the event path: nothing for programs that sell no gift cards; for those, one read of the order's sales on a
refund, and a row per gift-card line on a purchase.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from punchcard.kit.events import DomainEvent
from punchcard.ledger.domain import PointsReversed
from punchcard.mechanics.base import Turn
from punchcard.program.domain import ProgramVersion
from punchcard.rules.domain import PURCHASE, REFUND, EventFacts
from punchcard.wallet import sales


class GiftCardSales:
    name = "gift_card_sales"

    def section(self, version: ProgramVersion, event_type: str) -> ProgramVersion | None:
        if event_type not in (PURCHASE, REFUND) or not version.program.gift_cards.products:
            return None
        return version

    def load(self, turn: Turn, version: ProgramVersion) -> bool:
        """For a refund: whether it completes the refund of the whole order."""
        if turn.facts.type == PURCHASE:
            return False
        reversal = next(event for event in turn.events if isinstance(event, PointsReversed))
        return Decimal(reversal.refunded_fraction) >= 1

    def decide(self, facts: EventFacts, whole: bool, version: ProgramVersion) -> tuple[EventFacts, bool]:
        return facts, whole

    def apply(self, turn: Turn, decision: tuple[EventFacts, bool]) -> Sequence[DomainEvent]:
        facts, whole = decision
        terms, posting = turn.version.wallet_terms, turn.account.posting
        assert posting.order_id is not None  # purchases and refunds name their order
        if facts.type == REFUND:
            sales.refund(turn.session, terms, order_id=posting.order_id, refunded=facts.refunded, whole=whole)
            return []
        program = turn.version.program
        return sales.record(
            turn.session,
            terms,
            member_id=turn.member.id,
            order_id=posting.order_id,
            lines=[(line.sku, line.quantity) for line in facts.lines],
            due_at=program.points.available_at(posting.occurred_at, program.zone),
            now=turn.now,
        )
