"""Processing events exactly once: the event path every purchase, refund and custom event takes.

The flow for every event: look up the event id (a retry returns the stored response), lock the member and settle
what is due (``ledger.account``), then let the registered mechanics react (``punchcard.mechanics``: earning,
tiers, and whatever is added there), record the order of a purchase, and store the response, whose effects are the
domain events the mechanics caused. The caller commits once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from punchcard.event import refund, repository
from punchcard.event.errors import (
    CurrencyMismatch,
    OccurredInFuture,
    OrderAlreadyRecorded,
)
from punchcard.event.models import Event, Order
from punchcard.event.schemas import EventIn
from punchcard.kit.db import is_unique_violation, together
from punchcard.kit.errors import received_with_another_body
from punchcard.kit.events import effects_of
from punchcard.kit.money import from_minor, to_minor
from punchcard.ledger.account import Readings, open_account
from punchcard.ledger.domain import Balances, PointsBalance
from punchcard.ledger.posting import Posting
from punchcard.mechanics import earning, tiers
from punchcard.mechanics.base import Registry, Turn, run_all
from punchcard.mechanics.registry import MECHANICS
from punchcard.mechanics.stored import StoredMember
from punchcard.member import service as member_service
from punchcard.member.service import Member
from punchcard.offer import domain as offers
from punchcard.offer.domain import Behaviour, PastOrder
from punchcard.outbox import service as outbox
from punchcard.program.domain import Program, ProgramVersion
from punchcard.rules.domain import (
    MEMBER_ENROLLED,
    PURCHASE,
    REFUND,
    Context,
    Evaluation,
    EventFacts,
    Line,
    MemberFacts,
    evaluate,
)
from punchcard.tier import service as tier_service

CLOCK_SKEW = timedelta(minutes=10)
"""How far ahead of our clock a shop's ``occurred_at`` may be: clocks drift, but points cannot be earned in advance."""


@dataclass(frozen=True)
class Outcome:
    status: int  # 201 when processed now, 200 for a replay
    body: dict[str, Any]


def _replay(event: Event, digest: str) -> Outcome:
    if event.request_hash != digest:
        raise received_with_another_body(event.external_id)
    return Outcome(200, event.response)


def record(
    session: Session,
    version: ProgramVersion,
    body: EventIn,
    digest: str,
    now: datetime,
    mechanics: Registry = MECHANICS,
) -> Outcome:
    """Process one event exactly once; see the module docstring for the order of steps."""
    program = version.program
    # One round trip: the member, locked; whether this event id or its order was already recorded; what is due; the
    # balances and tier credits the mechanics and the answer read.
    arrival = repository.arrival(
        session,
        version.program_id,
        body.member_external_id,
        body.id,
        body.order_id,
        body.occurred_at,
        tiers.credit_window(version, body.type, body.occurred_at),
        tiers.top_tier(version),
    )
    member = arrival.member
    if arrival.recorded or member is None:
        existing = repository.find_event(session, version.program_id, body.id)
        if existing is not None:  # a retry is answered before any other check (the member may be blocked since)
            return _replay(existing, digest)
    _not_in_future(body.occurred_at, now)
    if member is None:
        member = member_service.get(session, version.program_id, body.member_external_id)  # raises member_not_found
    member_service.check_active(member)
    _same_currency(program, body.currency)
    if body.type == PURCHASE and arrival.order_recorded:
        raise _order_recorded(body.order_id)
    row = {
        "program_id": version.program_id,
        "external_id": body.id,
        "type": body.type,
        "member_id": member.id,
        "occurred_at": body.occurred_at,
        "recorded_at": now,
        "program_version": version.version,
        "request_hash": digest,
    }
    reserved = arrival.reserved
    if reserved is None:
        # SQLite: insert the event now (its id comes from the insert) unless its id is taken: a concurrent twin (for
        # this member or another) that committed first makes the insert do nothing, and its response is the answer.
        event_id = repository.insert_event(session, **row)
        if event_id is None:
            winner = repository.find_event(session, version.program_id, body.id)
            if winner is None:  # cannot happen: the insert only gives way to a committed row
                raise RuntimeError(f"event {body.id!r} conflicted but is not there")
            return _replay(winner, digest)
    else:  # PostgreSQL: the row is written last, with the response (``_write_together``)
        event_id = reserved.event_row
    posting = Posting(
        version.program_id, member.id, version.version, body.occurred_at, now, event_id=event_id, order_id=body.order_id
    )
    account = open_account(
        session, posting, due=arrival.due, known=arrival.known, reserved_lot=reserved.lot if reserved else None
    )
    turn = Turn(
        session,
        version,
        stored(session, member),
        body.facts(body.occurred_at),
        account,
        now,
        event=body.id,
        event_row=event_id,
    )
    if body.type == REFUND:  # the order's own inverse comes first: the mechanics (tiers) react to what it took back
        turn.events += refund.take_back(session, program, member, body, account, turn)
    run_all(mechanics, turn)
    response = answer(turn, account.balances)  # first: without what the arrival read, it reads the account rows
    outbox.publish(session, turn.events, now)
    session.flush()  # what went through the ORM (a tier change) before the writes sent together
    _write_together(session, body, turn, response, {"id": event_id, **row} if reserved is not None else None)
    return Outcome(201, response)


def answer(turn: Turn, balance: Callable[[], PointsBalance | Balances]) -> dict[str, Any]:
    """The response to an event (stored for its retries): the effects, derived from the domain events the mechanics
    caused, and the member's points, as the tier mechanic read them or else from ``balance``."""
    found = turn.notes.get(tiers.BALANCE) or balance()
    balances = {"available": found.available, "pending": found.pending}
    return {"event_id": turn.event, "effects": effects_of(turn.events), "balance": balances}


def _write_together(
    session: Session, body: EventIn, turn: Turn, response: dict[str, Any], event_row: dict[str, Any] | None
) -> None:
    """The event's writes that wait for no answer, in one round trip on PostgreSQL: the event's row under its reserved
    id (``event_row``; otherwise it is there and gets its response), the lots and legs the mechanics queued, a
    purchase's order. An order that another member's event recorded after the arrival looked refuses the event (its
    rows roll back); an event id a concurrent twin took fails the batch, whose events are then processed one by one,
    this one as the replay it has become."""
    assert turn.event_row is not None
    try:
        with together(session):
            if event_row is not None:
                repository.insert_reserved_event(session, **event_row, response=response)
            turn.account.flush()
            if body.type == PURCHASE:
                assert body.order_id is not None
                assert body.currency is not None
                repository.insert_order(session, **order_values(turn, body.order_id, body.currency))
            if event_row is None:
                repository.store_response(session, turn.event_row, response)
    except IntegrityError as error:
        if body.type == PURCHASE and is_unique_violation(error, Order.__tablename__):
            raise _order_recorded(body.order_id) from error
        raise


def order_values(turn: Turn, order_id: str, currency: str) -> dict[str, Any]:
    """A purchase's ``orders`` row after the mechanics ran: what it earned, its tier credits and each line's share,
    which later refunds take back."""
    earned: earning.Earned = turn.notes[earning.NOTE]
    facts = turn.facts
    return {
        "program_id": turn.program_id,
        "member_id": turn.member.id,
        "order_id": order_id,
        "event_id": turn.event_row,
        "occurred_at": facts.occurred_at,
        "currency": currency,
        "total_minor": to_minor(facts.order_total, currency),
        "shipping_minor": to_minor(facts.shipping, currency),
        "lines": order_lines(facts, earned.evaluation),
        "lot_id": earned.lot_id,
        "points_earned": earned.evaluation.points,
        "tier_credits_earned": turn.notes.get(tiers.CREDITS, 0),
        "refunded_quantities": {},
    }


def order_lines(facts: EventFacts, evaluation: Evaluation) -> list[dict[str, str]]:
    """An order's lines as the ``orders`` row keeps them: each with its share of the points (``weight``), which a
    refund of that line takes back."""
    return [
        {
            "sku": line.sku,
            "category": line.category,
            "quantity": str(line.quantity),
            "unit_price": str(line.unit_price),
            "weight": str(weight),
        }
        for line, weight in zip(facts.lines, evaluation.line_weights, strict=True)
    ]


def _order_recorded(order_id: str | None) -> OrderAlreadyRecorded:
    return OrderAlreadyRecorded(f"order {order_id!r} was already recorded by another event", [{"order_id": order_id}])


def check_moment_and_currency(program: Program, body: EventIn, now: datetime) -> None:
    """The checks an event passes before its member is looked at; an event accepted for later passes them when it
    is accepted."""
    _not_in_future(body.occurred_at, now)
    _same_currency(program, body.currency)


def _not_in_future(moment: datetime, now: datetime) -> None:
    if moment > now + CLOCK_SKEW:
        raise OccurredInFuture(
            f"{moment.isoformat()} is in the future", [{"field": "occurred_at", "now": now.isoformat()}]
        )


def _same_currency(program: Program, currency: str | None) -> None:
    if currency is not None and currency != program.currency:
        raise CurrencyMismatch(
            f"the program's currency is {program.currency}, the event's is {currency}",
            [{"expected": program.currency, "given": currency}],
        )


def preview(session: Session, version: ProgramVersion, body: EventIn, now: datetime) -> Evaluation:
    """What a purchase would earn for the member (if given), rule by rule; writes nothing."""
    _same_currency(version.program, body.currency)
    member = (
        member_service.get(session, version.program_id, body.member_external_id) if body.member_external_id else None
    )
    return evaluate_for(session, version.program, member, body.facts(now))


def evaluate_for(session: Session, program: Program, member: Member | None, facts: EventFacts) -> Evaluation:
    """Run the program's rules for ``facts`` as the earning mechanic would; writes nothing (this is the preview)."""
    known = MemberFacts()
    if member is not None:
        readings = Readings(session, member.id)
        known = earning.member_facts(program, stored(session, member), readings, facts.occurred_at, facts.type)
    return evaluate(program.all_rules, Context(facts, known, program.zone), program.rounding)


def facts_of(order: Order) -> EventFacts:
    """A recorded purchase as the facts its event had (the shop's attributes are not kept with an order)."""
    lines = tuple(
        Line(line["sku"], line.get("category", ""), Decimal(line["quantity"]), Decimal(line["unit_price"]))
        for line in order.lines
    )
    return EventFacts(PURCHASE, order.occurred_at, lines, from_minor(order.shipping_minor, order.currency))


def _as_it_stands(order: Order) -> PastOrder | None:
    """An order less its refunds: the lines with what is left of them, the merchandise in proportion to the money
    kept; ``None`` when nothing of it is kept (``refund.nothing_kept``; its points share is not its money share: a
    gift card earns nothing)."""
    if refund.nothing_kept(order):
        return None
    paid = order.total_minor + order.shipping_minor
    kept = Decimal(1) - Decimal(order.refunded_minor) / paid if paid else Decimal(1)
    lines = []
    for line in facts_of(order).lines:
        left = line.quantity - Decimal(order.refunded_quantities.get(line.sku, "0"))
        if left > 0:
            lines.append(replace(line, quantity=left))
    return PastOrder(order.occurred_at, from_minor(order.total_minor, order.currency) * kept, tuple(lines))


def behaviour(session: Session, program: Program, member: Member, now: datetime) -> Behaviour:
    """What the program's segments ask about ``member`` at ``now``: their orders as refunds left them, as far back
    as the segments read (``offer.domain.lookback``), and the member attributes earning rules test."""
    days = offers.lookback(program.segments)
    rows = repository.orders_since(session, member.id, now - timedelta(days=days) if days is not None else None)
    count = len(rows) if days is None else repository.order_count(session, member.id)
    found = tuple(past for past in map(_as_it_stands, rows) if past is not None)
    return Behaviour(found, member_service.attributes(member, now, count))


def stored(session: Session, member: Member) -> StoredMember:
    """``member`` as the mechanics see it; its order count (a query) is read only if a rule asks."""
    return StoredMember(session, member, lambda: repository.order_count(session, member.id))


def enrol(
    session: Session,
    version: ProgramVersion,
    external_id: str,
    profile: member_service.Profile,
    enrolled_at: datetime,
    now: datetime,
    mechanics: Registry = MECHANICS,
    attributes: Mapping[str, object] | None = None,
) -> tuple[Member, list[dict[str, Any]]]:
    """Create a member, give them the entry tier, and let the mechanics react to ``member_enrolled`` (the earning
    rules' welcome bonus, a referral); ``attributes`` are the enrolment event's (how the member joined)."""
    program = version.program
    _not_in_future(enrolled_at, now)
    member = member_service.create(session, version.program_id, external_id, profile, enrolled_at)
    if program.tiers is not None:
        tier_service.assign_entry_tier(session, member, program.tiers, enrolled_at)
    posting = Posting(version.program_id, member.id, version.version, enrolled_at, now, operation="enrolment")
    turn = Turn(
        session,
        version,
        StoredMember(session, member, lambda: 0),
        EventFacts(MEMBER_ENROLLED, enrolled_at, attributes=attributes or {}),
        open_account(session, posting, is_new=True),
        now,
    )
    turn.events.append(
        member_service.enrolled(version.program_id, member.id, member, name=member.name, tier=member.tier_code)
    )
    run_all(mechanics, turn)
    turn.account.flush()
    outbox.publish(session, turn.events, now)
    return member, effects_of(turn.events)
