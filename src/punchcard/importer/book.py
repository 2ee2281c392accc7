"""A batch of imported orders through the API's own event path, on in-memory state.

For each order, oldest first, the book does what ``event.service.record`` does, with the same functions: settle
what is due at the order's time with the one settlement rule (``ledger.domain.settle``, written as
``ledger.posting.settlement_legs``); run every registered mechanic that replays history
(``mechanics.registry.MECHANICS.for_history()``: earning, tiers, and whatever is added there; not the live-only
referrals and challenges) on a ``Turn`` whose account and member are the batch's in-memory ports
(``importer.ports``); record the order (``event.service.order_values``); publish the domain events to the outbox and
keep the response the API would have returned (``event.service.answer``). A member the import creates is enrolled
first as ``event.service.enrol`` does. Only reading and writing differ: the state is read once per batch
(``importer.service``) and the writes are collected into rows written set-wise at the batch's end.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.event.service import answer, order_values
from punchcard.importer.ports import BookAccount, BookMember
from punchcard.importer.source import Order
from punchcard.importer.state import Ids, MemberBook, OpenLot, Rows
from punchcard.kit.events import DomainEvent
from punchcard.ledger import bulk as ledger_bulk
from punchcard.ledger.domain import OpenLot as DomainLot
from punchcard.ledger.domain import PointsBalance, settle
from punchcard.ledger.posting import Posting, expired_events, settlement_legs, transfer
from punchcard.mechanics.base import Mechanic, Turn, run_all
from punchcard.mechanics.registry import MECHANICS
from punchcard.member import service as member_service
from punchcard.outbox import service as outbox
from punchcard.program.domain import ProgramVersion
from punchcard.rules.domain import MEMBER_ENROLLED, PURCHASE, EventFacts


class Book:
    """Applies orders for the members of one batch and collects the rows to write."""

    def __init__(
        self,
        session: Session,
        version: ProgramVersion,
        members: dict[str, MemberBook],
        ids: Ids,
        now: datetime,
        mechanics: Sequence[Mechanic] | None = None,
    ) -> None:
        self.session, self.version, self.program = session, version, version.program
        self.members, self.ids, self.now = members, ids, now
        self.mechanics = MECHANICS.for_history() if mechanics is None else list(mechanics)
        self.rows = Rows()
        self.lot_rows: dict[int, dict[str, Any]] = {}
        self._member_rows: dict[int, dict[str, Any]] = {}

    # --- what the ports ask of the batch (``importer.ports.Batch``) ------------------------------------------------

    def next_lot_id(self) -> int:
        return next(self.ids.lots)

    def write(self, *transfers: list[dict[str, object]]) -> None:
        """``ledger.service.write``: each group of legs becomes one balanced transfer (``ledger.posting.transfer``)."""
        for legs in transfers:
            self.rows.entries.extend(transfer(legs))

    def settle(self, member: MemberBook, posting: Posting, at: datetime) -> None:
        """``ledger.service.settle_member``: the one settlement rule (``ledger.domain.settle``) on the book's lots,
        written as the same transfers (``ledger.posting.settlement_legs``)."""
        if not member.may_settle(at):
            return
        lots = {lot.id: lot for lot in member.lots if lot.remaining > 0 or lot.is_pending}
        views = [
            DomainLot(lot.id, lot.remaining, lot.expires_at, lot.is_pending, lot.available_at) for lot in lots.values()
        ]
        plan = settle(views, -member.debt_line, at)
        if plan.is_empty:
            return
        self.write(*settlement_legs(posting, plan))
        for vested in plan.vest:
            lots[vested.lot_id].is_pending, lots[vested.lot_id].is_changed = False, True
        for take in plan.repay:
            _take(lots[take.lot_id], take.points)
        for expiry in plan.expire:
            _take(lots[expiry.lot_id], expiry.points)
        member.debt_line += plan.repaid
        self._publish(list(expired_events(posting, plan)))

    def load_firings(self, member: MemberBook, rule_code: str) -> None:
        """The member's earlier firings of ``rule_code`` from the database, once (a limited rule's were read with the
        batch; a new member has none)."""
        if rule_code in member.firings:
            return
        found = [] if member.is_new else ledger_bulk.firings(self.session, [member.id], [rule_code])
        member.firings[rule_code] = [(moment, lot_id) for _, _, moment, lot_id in found]

    # --- the event path --------------------------------------------------------------------------------------------

    def _turn(self, member: MemberBook, posting: Posting, facts: EventFacts, **event: Any) -> Turn:
        account = BookAccount(self, member, posting)
        standing = BookMember(self.rows, self.version.program_id, member)
        return Turn(self.session, self.version, standing, facts, account, self.now, **event)

    def _posting(self, member_id: int, at: datetime, **cause: Any) -> Posting:
        return Posting(self.version.program_id, member_id, self.version.version, at, self.now, **cause)

    def _publish(self, events: list[DomainEvent]) -> None:
        """The outbox rows of ``events``, as ``outbox.service.publish`` would write them at the API's commit."""
        self.rows.outbox.extend(outbox.row(event, self.now) for event in events)

    def enrol(self, member: MemberBook) -> None:
        """Create the member at ``member.profile.enrolled_at``: the entry tier, then the mechanics' reaction to
        ``member_enrolled`` (the welcome bonus)."""
        program, enrolled_at = self.program, member.profile.enrolled_at
        standing = BookMember(self.rows, self.version.program_id, member)
        if program.tiers is not None:
            standing.change_tier(program.tiers, program.tiers.tiers[0].code, "enrolment", enrolled_at, None)
        row = {
            "id": member.id,
            "program_id": self.version.program_id,
            "external_id": member.external_id,
            "marketing_consent": False,
            "status": member_service.ACTIVE,
            "enrolled_at": enrolled_at,
            "tier_code": member.tier_code,
            "tier_since": member.tier_since,
            "tier_grace_until": None,
        }
        self.rows.members.append(row)
        self._member_rows[member.id] = row
        turn = self._turn(member, self._posting(member.id, enrolled_at, operation="enrolment"), _enrolment(enrolled_at))
        turn.events.append(
            member_service.enrolled(
                self.version.program_id, member.id, member.profile, name=None, tier=member.tier_code
            )
        )
        run_all(self.mechanics, turn)
        self._publish(turn.events)

    def purchase(self, member: MemberBook, order: Order) -> None:
        """``event.service.record`` for one purchase."""
        at, event_id = order.occurred_at, next(self.ids.events)
        posting = self._posting(member.id, at, event_id=event_id, order_id=order.order_id)
        self.settle(member, posting, at)
        facts = EventFacts(PURCHASE, at, order.lines, order.shipping, {})
        turn = self._turn(member, posting, facts, event=order.event_id, event_row=event_id)
        run_all(self.mechanics, turn)
        self.rows.orders.append(order_values(turn, order.order_id, order.currency) | _NOTHING_REFUNDED)
        member.order_count += 1
        self._publish(turn.events)
        response = answer(turn, lambda: PointsBalance(member.available, member.pending))
        self.rows.events.append(
            {
                "id": event_id,
                "program_id": self.version.program_id,
                "external_id": order.event_id,
                "type": PURCHASE,
                "member_id": member.id,
                "occurred_at": at,
                "recorded_at": self.now,
                "program_version": self.version.version,
                "request_hash": order.digest(),
                "response": response,
            }
        )

    # --- the end of a batch ----------------------------------------------------------------------------------------

    def finish(self) -> Rows:
        """The rows to write: new rows as collected, plus the changes to lots and members that already existed."""
        for member in self.members.values():
            for lot in member.lots:
                if lot.is_new:
                    row = self.lot_rows[lot.id]
                    row["remaining"], row["is_pending"] = lot.remaining, lot.is_pending
                elif lot.is_changed:
                    self.rows.lot_updates.append(
                        {"lot_id": lot.id, "remaining": lot.remaining, "is_pending": lot.is_pending}
                    )
            if member.is_new and member.id in self._member_rows:
                row = self._member_rows[member.id]
                row["tier_code"], row["tier_since"] = member.tier_code, member.tier_since
                row["tier_grace_until"] = member.tier_grace_until
            elif member.is_changed:
                self.rows.member_updates.append(
                    {
                        "member_id": member.id,
                        "tier_code": member.tier_code,
                        "tier_since": member.tier_since,
                        "tier_grace_until": member.tier_grace_until,
                    }
                )
        return self.rows


_NOTHING_REFUNDED = {
    "points_reversed": 0,
    "tier_credits_reversed": 0,
    "refunded_minor": 0,
    "refunded_fraction": "0",
}
"""The refund columns of a new order (the API's insert leaves them to the table's defaults)."""


def _enrolment(at: datetime) -> EventFacts:
    return EventFacts(MEMBER_ENROLLED, at)


def _take(lot: OpenLot, points: int) -> None:
    lot.remaining -= points
    lot.is_changed = True
