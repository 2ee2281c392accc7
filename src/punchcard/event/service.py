"""Processing events exactly once: purchases earn, refunds reverse, custom events run their rules.

The flow for every event: look up the event id (a retry returns the stored response), lock the member, settle what is
due (vesting, expiry), evaluate the rules with pure functions, write lots and entries, update the tier, store the
response with the event. The caller commits once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from punchcard.event import refund, repository
from punchcard.event.errors import (
    CurrencyMismatch,
    OccurredInFuture,
    OrderAlreadyRecorded,
)
from punchcard.event.models import Event
from punchcard.event.schemas import EventIn
from punchcard.kit.calendar import period_start
from punchcard.kit.errors import IdempotencyConflict
from punchcard.kit.events import DomainEvent, effects_of
from punchcard.kit.money import to_minor
from punchcard.ledger import repository as ledger_queries
from punchcard.ledger import service as ledger
from punchcard.ledger.domain import Award, EntryKind, PointsEarned
from punchcard.member import repository as members
from punchcard.member import service as member_service
from punchcard.member.domain import MemberEnrolled
from punchcard.member.errors import MemberBlocked
from punchcard.member.models import Member
from punchcard.outbox import service as outbox
from punchcard.program.domain import Program, ProgramVersion
from punchcard.rules.domain import (
    MEMBER_ENROLLED,
    PURCHASE,
    REFUND,
    Context,
    Evaluation,
    EventFacts,
    MemberAttribute,
    MemberFacts,
    Rule,
    evaluate,
)
from punchcard.tier import service as tiers
from punchcard.tier.domain import Metric

CLOCK_SKEW = timedelta(minutes=10)
"""How far ahead of our clock a shop's ``occurred_at`` may be: clocks drift, but points cannot be earned in advance."""


@dataclass(frozen=True)
class Outcome:
    status: int  # 201 when processed now, 200 for a replay
    body: dict[str, Any]


def _replay(event: Event, digest: str) -> Outcome:
    if event.request_hash != digest:
        raise IdempotencyConflict(
            f"event {event.external_id!r} was already received with a different body",
            [{"event_id": event.external_id}],
        )
    return Outcome(200, event.response)


def record(session: Session, version: ProgramVersion, body: EventIn, digest: str, now: datetime) -> Outcome:
    """Process one event exactly once; see the module docstring for the order of steps."""
    program = version.program
    # One round trip: the member, locked; whether this event id or its order was already recorded; what is due.
    arrival = repository.arrival(
        session, version.program_id, body.member_external_id, body.id, body.order_id, body.occurred_at
    )
    member = arrival.member
    if arrival.recorded or member is None:
        existing = repository.find_event(session, version.program_id, body.id)
        if existing is not None:  # a retry is answered before any other check (the member may be blocked since)
            return _replay(existing, digest)
    _not_in_future(body.occurred_at, now)
    if member is None:
        member = members.get(session, version.program_id, body.member_external_id)  # raises member_not_found
    if member.status == member_service.BLOCKED:
        raise MemberBlocked(f"member {member.external_id!r} is blocked")
    _same_currency(program, body.currency)
    # Holding the member's lock, insert the event unless its id is taken: a concurrent twin (for this member or
    # another) that committed first makes the insert do nothing, and its stored response is the answer.
    event_id = repository.insert_event(
        session,
        program_id=version.program_id,
        external_id=body.id,
        type=body.type,
        member_id=member.id,
        occurred_at=body.occurred_at,
        recorded_at=now,
        program_version=version.version,
        request_hash=digest,
    )
    if event_id is None:
        winner = repository.find_event(session, version.program_id, body.id)
        if winner is None:  # cannot happen: the insert only gives way to a committed row
            raise RuntimeError(f"event {body.id!r} conflicted but is not there")
        return _replay(winner, digest)
    posting = ledger.Posting(
        version.program_id, member.id, version.version, body.occurred_at, now, event_id=event_id, order_id=body.order_id
    )
    debt = ledger.settle_member(session, posting, at=body.occurred_at, due=arrival.due)
    points: dict[str, int] | None = None
    if body.type == PURCHASE:
        if arrival.order_recorded:
            raise _order_recorded(body.order_id)
        events, points = _purchase(session, program, member, body, event_id, posting, debt)
    elif body.type == REFUND:
        events = refund.take_back(session, program, member, body, event_id, posting)
    else:
        events = _custom(session, program, member, body.facts(body.occurred_at), posting, debt=debt, event=body.id)
    outbox.publish(session, events, now)
    response = {"event_id": body.id, "effects": effects_of(events), "balance": points or balance(session, member.id)}
    repository.store_response(session, event_id, response)
    session.flush()
    return Outcome(201, response)


def _order_recorded(order_id: str | None) -> OrderAlreadyRecorded:
    return OrderAlreadyRecorded(f"order {order_id!r} was already recorded by another event", [{"order_id": order_id}])


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
    member = members.get(session, version.program_id, body.member_external_id) if body.member_external_id else None
    return evaluate_for(session, version.program, member, body.facts(now))


def balance(session: Session, member_id: int) -> dict[str, int]:
    found = ledger_queries.balances(session, member_id)
    return {"available": found.available, "pending": found.pending}


def member_facts(
    session: Session, program: Program, member: Member, now: datetime, event_type: str | None = None
) -> MemberFacts:
    """Everything the rules may ask about the member as of ``now``, including how often limited rules fired.

    With ``event_type``, only what that event's rules can ask is read: the firing counts of its limited rules, and
    the member's order count only if one of its rules tests it (each is a query).
    """
    tier = program.tiers.by_code(member.tier_code) if program.tiers else None
    rules = [rule for rule in program.rules if event_type is None or rule.event_type == event_type]
    counts = {}
    for rule in rules:
        if rule.limit is not None:
            since = period_start(now, rule.limit.period, program.zone)
            counts[(rule.code, rule.limit.period)] = ledger_queries.firing_count(
                session, member.id, rule.code, since, now
            )
    reads_orders = any(_tests_member(rule, "order_count") for rule in rules)
    attributes = member_service.attributes(
        member, repository.order_count(session, member.id) if reads_orders else 0, now
    )
    if not reads_orders:
        del attributes["order_count"]  # no rule of this event asks for it
    return MemberFacts(
        tier_code=tier.code if tier else None,
        tier_multiplier=tier.multiplier if tier else Decimal(1),
        attributes=attributes,
        firing_counts=counts,
    )


def _tests_member(rule: Rule, attribute: str) -> bool:
    return any(
        isinstance(condition, MemberAttribute) and condition.test.name == attribute for condition in rule.conditions
    )


def evaluate_for(session: Session, program: Program, member: Member | None, facts: EventFacts) -> Evaluation:
    """Run the program's rules for ``facts``; writes nothing (this is also the preview)."""
    known = (
        member_facts(session, program, member, facts.occurred_at, facts.type) if member is not None else MemberFacts()
    )
    return evaluate(program.rules, Context(facts, known, program.zone), program.rounding)


def points_earned(
    evaluation: Evaluation,
    posting: ledger.Posting,
    lot_id: int | None,
    pending_until: datetime | None,
    *,
    cause: str,
    event: str | None,
) -> PointsEarned | None:
    """The event of an earning that opened lot ``lot_id`` (none when the rules gave nothing). ``posting`` says who,
    when and for which order; the importer passes its own with the same fields."""
    if lot_id is None:
        return None
    return PointsEarned(
        program_id=posting.program_id,
        member_id=posting.member_id,
        occurred_at=posting.occurred_at,
        points=evaluation.points,
        awards=tuple(Award(a.points, a.rule_code, a.rule_name, a.detail) for a in evaluation.awards),
        lot_id=lot_id,
        pending_until=pending_until,
        cause=cause,
        event=event,
        order_id=posting.order_id,
    )


def _credit(
    session: Session,
    program: Program,
    evaluation: Evaluation,
    posting: ledger.Posting,
    allow_pending: bool,
    *,
    cause: str,
    event: str | None,
    debt: int | None = None,
    also: Sequence[dict[str, object]] = (),
) -> tuple[int | None, list[DomainEvent]]:
    parts = [ledger.Credit(a.points, f"{a.rule_name}: {a.detail}", a.rule_code) for a in evaluation.awards]
    lot_id = ledger.credit(
        session,
        posting,
        parts,
        kind=EntryKind.EARN,
        policy=program.points,
        zone=program.zone,
        allow_pending=allow_pending,
        debt=debt,
        also=also,
    )
    pending_until = program.points.available_at(posting.occurred_at, program.zone) if allow_pending else None
    earned = points_earned(evaluation, posting, lot_id, pending_until, cause=cause, event=event)
    return lot_id, [earned] if earned is not None else []


def tier_credits(program: Program, evaluation: Evaluation, facts: EventFacts) -> int:
    if program.tiers is None:
        return 0
    if program.tiers.metric is Metric.POINTS:
        return evaluation.points
    if program.tiers.metric is Metric.AMOUNT_SPENT:
        return to_minor(facts.order_total, program.currency)
    return 1


def _purchase(
    session: Session,
    program: Program,
    member: Member,
    body: EventIn,
    event_id: int,
    posting: ledger.Posting,
    debt: int,
) -> tuple[list[DomainEvent], dict[str, int]]:
    """Earn for an order: the lot and its entries with the tier credit, the order row, and an upgrade the credits
    now reach. Returns the events and the balance after them."""
    assert body.order_id is not None
    assert body.currency is not None
    facts = body.facts(body.occurred_at)
    evaluation = evaluate_for(session, program, member, facts)
    credits = tier_credits(program, evaluation, facts)
    credit_entry = ledger.tier_credit_entries(posting, credits, EntryKind.EARN, f"Order {body.order_id}")
    lot_id, events = _credit(
        session, program, evaluation, posting, True, cause=PURCHASE, event=body.id, debt=debt, also=credit_entry
    )
    lines = [
        {
            "sku": line.sku,
            "category": line.category,
            "quantity": str(line.quantity),
            "unit_price": str(line.unit_price),
            "weight": str(weight),
        }
        for line, weight in zip(facts.lines, evaluation.line_weights, strict=True)
    ]
    recorded = repository.insert_order(
        session,
        program_id=posting.program_id,
        member_id=member.id,
        order_id=body.order_id,
        event_id=event_id,
        occurred_at=body.occurred_at,
        currency=body.currency,
        total_minor=to_minor(facts.order_total, body.currency),
        shipping_minor=to_minor(facts.shipping, body.currency),
        lines=lines,
        lot_id=lot_id,
        points_earned=evaluation.points,
        tier_credits_earned=credits,
        refunded_quantities={},
    )
    if not recorded:  # another member's event recorded the same order after we read (the rows above roll back)
        raise _order_recorded(body.order_id)
    if program.tiers is None or not tiers.can_rise(member, program.tiers):
        return events, balance(session, member.id)
    # The balance for the response and the credits the tier counts, in one round trip.
    since = program.tiers.window.start(body.occurred_at, program.zone)
    found, value = ledger_queries.balances_and_credits(session, member.id, since, body.occurred_at)
    changed = tiers.upgrade_if_earned(
        session, member, program.tiers, program.zone, body.occurred_at, event_id, value=value
    )
    if changed is not None:
        events.append(changed)
    return events, {"available": found.available, "pending": found.pending}


def _custom(
    session: Session,
    program: Program,
    member: Member,
    facts: EventFacts,
    posting: ledger.Posting,
    *,
    debt: int | None = None,
    event: str | None = None,
) -> list[DomainEvent]:
    evaluation = evaluate_for(session, program, member, facts)
    _, events = _credit(session, program, evaluation, posting, False, cause=facts.type, event=event, debt=debt)
    return events


def enrol(
    session: Session,
    version: ProgramVersion,
    external_id: str,
    profile: member_service.Profile,
    enrolled_at: datetime,
    now: datetime,
) -> tuple[Member, list[dict[str, Any]]]:
    """Create a member, give them the entry tier, and run the ``member_enrolled`` rules (e.g. a welcome bonus)."""
    program = version.program
    _not_in_future(enrolled_at, now)
    member = member_service.create(session, version.program_id, external_id, profile, enrolled_at)
    if program.tiers is not None:
        tiers.assign_entry_tier(session, member, program.tiers, enrolled_at)
    enrolled = MemberEnrolled(
        program_id=version.program_id,
        member_id=member.id,
        occurred_at=enrolled_at,
        email=member.email,
        name=member.name,
        birth_date=member.birth_date,
        language=member.language,
        marketing_consent=member.marketing_consent,
        tier=member.tier_code,
    )
    posting = ledger.Posting(version.program_id, member.id, version.version, enrolled_at, now, operation="enrolment")
    events = [enrolled, *_custom(session, program, member, EventFacts(MEMBER_ENROLLED, enrolled_at), posting, debt=0)]
    outbox.publish(session, events, now)
    return member, effects_of(events)
