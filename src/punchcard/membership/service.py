"""Moving a member's membership: an instruction decided by ``membership.domain`` and written down with its events;
time's changes and the monthly reward, for the jobs; the member's perks, for the rules engine, the checkout and the
views.

Every write happens under the member's row lock: the event path holds it when its mechanic calls ``record``; the
jobs take it (``settle_member``). The caller commits.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from punchcard.kit.money import format_amount, from_minor
from punchcard.member import service as members
from punchcard.membership import repository
from punchcard.membership.domain import Membership, MembershipEvent, Perks, Plan, Terms
from punchcard.membership.lifecycle import (
    Transition,
    as_of,
    current_perks,
    gifts_due,
    months_after,
    settle,
    stamped,
)
from punchcard.membership.models import MembershipRow
from punchcard.outbox import service as outbox
from punchcard.reward import service as rewards

GIFT_CAUSE = "membership"


def current(session: Session, member_id: int) -> Membership | None:
    """The member's membership as last written (``lifecycle.as_of`` says what it is at a moment)."""
    return repository.current(session, member_id)


def of_subscription(session: Session, program_id: int, subscription_ref: str) -> int | None:
    """The member paying through the provider's subscription ``subscription_ref``, if one is known."""
    return repository.of_subscription(session, program_id, subscription_ref)


def record(
    session: Session, program_id: int, terms: Terms, member_id: int, transition: Transition, now: datetime
) -> list[MembershipEvent]:
    """Write what an instruction did to the member's membership (``lifecycle.decide``; the caller holds the member's
    row lock): the membership, its changes, and the monthly rewards that fall due. Returns the events, with their
    program and member, for the caller to publish (the event path derives its response from them)."""
    events = stamped(transition.events, program_id, member_id)
    row = repository.find(session, member_id)
    _write(session, program_id, terms, member_id, row, transition.membership, events, now)
    return events


def _write(
    session: Session,
    program_id: int,
    terms: Terms,
    member_id: int,
    row: MembershipRow | None,
    membership: Membership,
    events: list[MembershipEvent],
    now: datetime,
) -> None:
    plan = terms.plans.get(membership.plan)
    if plan is not None:
        membership = _give_monthly_rewards(session, program_id, terms, member_id, membership, plan, now)
    repository.write(
        session,
        program_id,
        member_id,
        row,
        membership,
        changes_at=_changes_at(membership, plan),
        gift_at=_gift_at(membership, plan),
        now=now,
    )
    repository.record_changes(session, events, now)


def _changes_at(membership: Membership, plan: Plan | None) -> datetime | None:
    """When time next changes ``membership``: its period's end, or its grace's end; none once it ended."""
    if plan is None or not membership.status.is_current:
        return None
    if membership.grace_until is not None and not membership.cancel_at_period_end:
        return membership.grace_until
    return membership.current_period_end


def _gift_at(membership: Membership, plan: Plan | None) -> datetime | None:
    if plan is None or plan.perks.monthly_reward is None or not membership.status.is_current:
        return None
    if membership.gifted_until is None:
        return membership.started_at
    return membership.gifted_until


def _give_monthly_rewards(
    session: Session,
    program_id: int,
    terms: Terms,
    member_id: int,
    membership: Membership,
    plan: Plan,
    now: datetime,
) -> Membership:
    """The plan's monthly reward for each membership month due by ``now`` and not given (a coupon each, once per
    month: ``reward.service.gift`` is idempotent by the month); ``gifted_until`` moves past them."""
    reward = terms.rewards.get(plan.perks.monthly_reward) if plan.perks.monthly_reward else None
    due = gifts_due(membership, plan, now, terms.zone)
    if reward is None or not due:
        return membership
    for month in due:
        rewards.gift(
            session,
            program_id,
            member_id,
            reward,
            zone=terms.zone,
            cause=GIFT_CAUSE,
            operation=f"membership:{plan.code}:{membership.started_at.isoformat()}:{month.isoformat()}",
            now=now,
        )
    months = _months_between(membership.started_at, due[-1], terms.zone)
    return replace(membership, gifted_until=months_after(membership.started_at, months + 1, terms.zone))


def _months_between(start: datetime, month: datetime, zone: ZoneInfo) -> int:
    local_start, local_month = start.astimezone(zone), month.astimezone(zone)
    return (local_month.year - local_start.year) * 12 + local_month.month - local_start.month


def settle_member(session: Session, program_id: int, terms: Terms, member_id: int, now: datetime) -> int:
    """Write down what time did to the member's membership by ``now`` (an end, a lapse) and give the monthly rewards
    due; publishes the events. Locks the member first. Returns how many events it published."""
    members.lock_id(session, member_id)
    row = repository.find(session, member_id)
    if row is None:
        return 0
    membership = repository.as_domain(row)
    plan = terms.plans.get(membership.plan)
    if plan is None:  # the plan left the program file: nothing more happens to it by time
        repository.write(session, program_id, member_id, row, membership, changes_at=None, gift_at=None, now=now)
        return 0
    transition = settle(membership, plan, now)
    events = stamped(transition.events, program_id, member_id)
    _write(session, program_id, terms, member_id, row, transition.membership, events, now)
    outbox.publish(session, events, now)
    return len(events)


def settle_due(session: Session, program_id: int, terms: Terms, *, at: datetime, limit: int) -> int:
    """One batch of the jobs' step: the memberships with something due at ``at`` (an end, a lapse, a monthly
    reward), each settled as of ``at`` under its member's lock; returns how many it looked at (0: nothing more). Each
    settled row's ``changes_at`` and ``gift_at`` move past ``at``, so the next batch finds the next ones."""
    due = repository.due(session, program_id, at, limit)
    for member_id in due:
        settle_member(session, program_id, terms, member_id, at)
    return len(due)


def perks(session: Session, terms: Terms, member_id: int, now: datetime) -> tuple[Plan, Perks] | None:
    """The plan and perks the member has at ``now`` (none without a current membership, or in a program without
    plans: then nothing is read)."""
    if not terms.plans:
        return None
    return current_perks(current(session, member_id), terms.plans, now)


def view(membership: Membership | None, terms: Terms, now: datetime, language: str) -> dict[str, Any] | None:
    """The member's membership as the API shows it (``membership`` in the member)."""
    if membership is None:
        return None
    plan = terms.plans.get(membership.plan)
    shown = as_of(membership, plan, now) if plan is not None else membership
    currency = terms.currency
    return {
        "plan": membership.plan,
        "plan_name": plan.name.in_language(language) if plan is not None else membership.plan,
        "period": shown.period.value,
        "status": shown.status.value,
        "started_at": shown.started_at.isoformat(),
        "current_period_start": shown.current_period_start.isoformat(),
        "current_period_end": shown.current_period_end.isoformat(),
        "cancel_at_period_end": shown.cancel_at_period_end,
        "grace_until": shown.grace_until.isoformat() if shown.grace_until else None,
        "ended_at": shown.ended_at.isoformat() if shown.ended_at else None,
        "price": {"amount": format_amount(plan.prices[shown.period], currency), "currency": currency}
        if plan is not None and shown.period in plan.prices
        else None,
        "paid": {"amount": format_amount(from_minor(shown.paid_minor, currency), currency), "currency": currency},
        "perks": plan.perks.described() if plan is not None and shown.status.is_current else [],
    }
