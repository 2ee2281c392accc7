"""The earning mechanic: the program's earning rules for every event type but refunds, the welcome bonus included
(rules ``when: member_enrolled``).

It reads what the rules may ask about the member (``member_facts``: only what this event's rules can ask), decides
with the rules engine (``rules.domain.evaluate``, pure), and credits one lot with an entry per rule that gave points
(pending inside the return window for purchases). It leaves its evaluation in ``turn.notes`` for the mechanics after
it (tiers count what was earned) and for the event's order (each line's share, for refunds).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from punchcard.kit.calendar import period_start
from punchcard.ledger import service as ledger
from punchcard.ledger.domain import Award, EntryKind, PointsEarned
from punchcard.ledger.posting import Posting
from punchcard.mechanics.base import Counting, Standing, Turn
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


def member_facts(program: Program, member: Standing, account: Counting, now: datetime, event_type: str) -> MemberFacts:
    """Everything this event's rules may ask about the member as of ``now``: the firing counts of its limited rules,
    and the member's order count (a query) only if one of its rules tests it."""
    tier = program.tiers.by_code(member.tier_code) if program.tiers else None
    rules = [rule for rule in program.all_rules if rule.event_type == event_type]
    counts = {}
    for rule in rules:
        if rule.limit is not None:
            since = period_start(now, rule.limit.period, program.zone)
            counts[(rule.code, rule.limit.period)] = account.firing_count(rule.code, since, now)
    plan = member.plan(program.membership_terms, now) if program.plans else None
    perks = frozenset(perk.code for perk in tier.perks) if tier else frozenset()
    return MemberFacts(
        tier_code=tier.code if tier else None,
        tier_multiplier=tier.multiplier if tier else Decimal(1),
        plan_code=plan.code if plan else None,
        perks=perks | plan.perks.codes() if plan else perks,
        early_access_hours=plan.perks.early_access_hours if plan else 0,
        attributes=member.attributes(now, with_orders=any(_tests_member(rule, "order_count") for rule in rules)),
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
        awards=tuple(Award(a.points, a.rule_code, a.rule_name.default, a.detail) for a in evaluation.awards),
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
        return member_facts(program, turn.member, turn.account, turn.facts.occurred_at, turn.facts.type)

    def decide(self, facts: EventFacts, state: MemberFacts, program: Program) -> Evaluation:
        return evaluate(program.all_rules, Context(facts, state, program.zone), program.rounding)

    def apply(self, turn: Turn, evaluation: Evaluation) -> Sequence[PointsEarned]:
        program, posting = turn.version.program, turn.account.posting
        parts = [ledger.Credit(a.points, f"{a.rule_name.default}: {a.detail}", a.rule_code) for a in evaluation.awards]
        is_purchase = turn.facts.type == PURCHASE  # only purchases can be returned, so only they wait
        lot_id = turn.account.credit(
            parts, kind=EntryKind.EARN, policy=program.points, zone=program.zone, allow_pending=is_purchase
        )
        turn.notes[NOTE] = Earned(evaluation, lot_id)
        pending_until = program.points.available_at(posting.occurred_at, program.zone) if is_purchase else None
        earned = points_earned(evaluation, posting, lot_id, pending_until, cause=turn.facts.type, event=turn.event)
        return [earned] if earned is not None else []
