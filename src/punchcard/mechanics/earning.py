"""The earning mechanic: the program's earning rules for every event type but refunds, the welcome bonus included
(rules ``when: member_enrolled``).

It reads what the rules may ask about the member (``member_facts``: only what this event's rules can ask), decides
with the rules engine (``rules.domain.evaluate``, pure), and credits one lot with an entry per rule that gave points
(pending inside the return window for purchases). It leaves its evaluation in ``turn.notes`` for the mechanics after
it (tiers count what was earned) and for the event's order (each line's share, for refunds).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from punchcard.kit.calendar import period_start
from punchcard.ledger import repository as ledger_queries
from punchcard.ledger import service as ledger
from punchcard.ledger.domain import Award, EntryKind, PointsEarned
from punchcard.ledger.posting import Posting
from punchcard.mechanics.base import Turn
from punchcard.member import service as member_service
from punchcard.member.models import Member
from punchcard.program.domain import Program, ProgramVersion
from punchcard.rules.domain import (
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

NOTE = "earning"
"""Where the earning leaves its ``Earned`` in ``turn.notes``."""


@dataclass(frozen=True)
class Earned:
    evaluation: Evaluation
    lot_id: int | None


def member_facts(
    session: Session,
    program: Program,
    member: Member,
    now: datetime,
    event_type: str | None,
    order_count: Callable[[], int],
) -> MemberFacts:
    """Everything the rules may ask about the member as of ``now``, including how often limited rules fired.

    With ``event_type``, only what that event's rules can ask is read: the firing counts of its limited rules, and
    the member's order count (``order_count``, from the orders the event path keeps) only if one of its rules tests
    it (each is a query).
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
    attributes = member_service.attributes(member, order_count() if reads_orders else 0, now)
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


def points_earned(
    evaluation: Evaluation,
    posting: Posting,
    lot_id: int | None,
    pending_until: datetime | None,
    *,
    cause: str,
    event: str | None,
) -> PointsEarned | None:
    """The event of an earning that opened lot ``lot_id`` (none when the rules gave nothing). ``posting`` says who,
    when and for which order."""
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


class Earning:
    """The earning rules as a mechanic (see the module docstring)."""

    name = "earning"

    def section(self, version: ProgramVersion, event_type: str) -> Program | None:
        return None if event_type == REFUND else version.program

    def load(self, turn: Turn, program: Program) -> MemberFacts:
        facts = turn.facts
        return member_facts(turn.session, program, turn.member, facts.occurred_at, facts.type, turn.order_count)

    def decide(self, facts: EventFacts, state: MemberFacts, program: Program) -> Evaluation:
        return evaluate(program.rules, Context(facts, state, program.zone), program.rounding)

    def apply(self, turn: Turn, evaluation: Evaluation) -> Sequence[PointsEarned]:
        program, posting = turn.version.program, turn.account.posting
        parts = [ledger.Credit(a.points, f"{a.rule_name}: {a.detail}", a.rule_code) for a in evaluation.awards]
        is_purchase = turn.facts.type == PURCHASE  # only purchases can be returned, so only they wait
        lot_id = turn.account.credit(
            parts, kind=EntryKind.EARN, policy=program.points, zone=program.zone, allow_pending=is_purchase
        )
        turn.notes[NOTE] = Earned(evaluation, lot_id)
        pending_until = program.points.available_at(posting.occurred_at, program.zone) if is_purchase else None
        earned = points_earned(evaluation, posting, lot_id, pending_until, cause=turn.facts.type, event=turn.event)
        return [earned] if earned is not None else []
