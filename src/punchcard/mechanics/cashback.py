"""The cashback mechanic: store credit for purchases that the program's cashback rules select, taken back by refunds.

On a purchase it reads the grants of the rules that applied (the earning mechanic's evaluation: a rule's conditions,
a tier or a plan, hold for cashback as for points) and credits the sum, per sku rounded down to the minor unit;
pending inside the return window. On a refund it takes back what the refund undoes (``wallet.cashback``). Live
only: an import of past orders pays no cashback.

Cost on the event path: nothing for programs without a cashback rule; for those, a purchase that earns cashback
writes one transfer and one row, and a refund reads the order's cashback row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from punchcard.kit.events import DomainEvent
from punchcard.ledger.domain import PointsReversed
from punchcard.mechanics import earning
from punchcard.mechanics.base import Turn
from punchcard.program.domain import ProgramVersion
from punchcard.rules.domain import PURCHASE, REFUND, EventFacts
from punchcard.wallet import cashback
from punchcard.wallet.domain import Cashback


@dataclass(frozen=True)
class Earn:
    shares: dict[str, int]
    quantities: dict[str, Decimal]


@dataclass(frozen=True)
class TakeBack:
    refunded: dict[str, Decimal]
    fraction: Decimal


class CashbackMechanic:
    name = "cashback"

    def section(self, version: ProgramVersion, event_type: str) -> ProgramVersion | None:
        if event_type not in (PURCHASE, REFUND):
            return None
        return version if version.program.cashback_rules else None

    def load(self, turn: Turn, version: ProgramVersion) -> tuple[Cashback, ...] | TakeBack:
        if turn.facts.type == PURCHASE:
            found: earning.Earned = turn.notes[earning.NOTE]
            return tuple(grant for grant in found.evaluation.grants if isinstance(grant, Cashback))
        reversal = next(event for event in turn.events if isinstance(event, PointsReversed))
        return TakeBack(dict(turn.facts.refunded), Decimal(reversal.refunded_fraction))

    def decide(
        self, facts: EventFacts, state: tuple[Cashback, ...] | TakeBack, version: ProgramVersion
    ) -> Earn | TakeBack:
        if isinstance(state, TakeBack):
            return state
        shares: dict[str, int] = {}
        for grant in state:
            for sku, minor in grant.shares(facts, version.program.currency).items():
                shares[sku] = shares.get(sku, 0) + minor
        quantities: dict[str, Decimal] = {}
        for line in facts.lines:
            if line.sku in shares:
                quantities[line.sku] = quantities.get(line.sku, Decimal(0)) + line.quantity
        return Earn(shares, quantities)

    def apply(self, turn: Turn, decision: Earn | TakeBack) -> Sequence[DomainEvent]:
        terms, posting = turn.version.wallet_terms, turn.account.posting
        assert posting.order_id is not None  # purchases and refunds name their order
        if isinstance(decision, Earn):
            program = turn.version.program
            earned = cashback.earn(
                turn.session,
                terms,
                member_id=turn.member.id,
                order_id=posting.order_id,
                shares=decision.shares,
                quantities=decision.quantities,
                occurred_at=posting.occurred_at,
                available_at=program.points.available_at(posting.occurred_at, program.zone),
                now=turn.now,
                event_id=turn.event_row,
            )
            return [earned] if earned is not None else []
        taken = cashback.reverse(
            turn.session,
            terms,
            member_id=turn.member.id,
            order_id=posting.order_id,
            refunded=decision.refunded,
            fraction=decision.fraction,
            occurred_at=posting.occurred_at,
            now=turn.now,
            event_id=turn.event_row,
        )
        return [taken] if taken is not None else []
