"""How a membership moves, pure: each instruction (``decide``), time (``settle``, ``as_of``), a pro-rata refund, the
perks a member has at a moment and the monthly rewards due.

```
 (none, lapsed, cancelled) ──start──► trialing (a plan's first trial) | active
 trialing | active | past_due ──renew (paid)──► active, the next period
 trialing | active ──payment failed──► past_due (grace days from the failure or the period's end)
 trialing | active | past_due ──cancel at period end──► (unchanged, ends at the period's end) ──► cancelled
 trialing | active | past_due ──cancel now──► cancelled (the plan's pro-rata refund of the unused time)
 past_due, grace over ──► lapsed            active | trialing, period over and no renewal ──► past_due ──► lapsed
 lapsed ──a payment after all──► active (a new membership, no trial)
```

Time moves a membership too (a grace runs out, a period ends): ``as_of`` says what it is at any moment, so the
member's view, the rules engine and the perks are right even before the jobs write the change down (``settle``,
with its events). Perks hold while a membership is ``trialing``, ``active`` or ``past_due`` (the grace keeps them:
the shop has not given up on the payment). Nothing here reads a clock, a database or a setting.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from punchcard.kit.calendar import add_months
from punchcard.kit.money import to_minor
from punchcard.membership.domain import (
    BillingPeriod,
    CancelRefund,
    Instruction,
    Kind,
    Membership,
    MembershipCancelled,
    MembershipEnded,
    MembershipEvent,
    MembershipPaymentFailed,
    MembershipRefused,
    MembershipRenewed,
    MembershipStarted,
    Perks,
    Plan,
    Refusal,
    Status,
)

# --- transitions --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    membership: Membership
    events: tuple[MembershipEvent, ...]


def months_after(start: datetime, months: int, zone: ZoneInfo) -> datetime:
    """The same local wall-clock moment ``months`` later (31 January + 1 month = 28/29 February), so a member's
    renewals and monthly gifts fall on their day whatever daylight saving does."""
    local = start.astimezone(zone)
    day = add_months(local.date(), months)
    return datetime.combine(day, local.time(), tzinfo=zone).astimezone(UTC)


def period_end(start: datetime, period: BillingPeriod, zone: ZoneInfo) -> datetime:
    return months_after(start, period.months, zone)


def as_of(membership: Membership, plan: Plan, now: datetime) -> Membership:
    """What ``membership`` is at ``now``, with time's changes (``settle`` writes them down with their events)."""
    return settle(membership, plan, now).membership


def settle(membership: Membership, plan: Plan, now: datetime) -> Transition:
    """The changes time made by ``now``: a membership cancelled at its period's end ends there; one whose period ended
    without a renewal is ``past_due`` with the plan's grace from the period's end; a grace that ran out lapses."""
    current = membership
    if current.status.is_current and current.cancel_at_period_end and now >= current.current_period_end:
        current = replace(current, status=Status.CANCELLED, ended_at=current.current_period_end, grace_until=None)
        return Transition(current, (_ended(current),))
    if current.status in (Status.TRIALING, Status.ACTIVE) and now >= current.current_period_end:
        grace = current.current_period_end + timedelta(days=plan.grace_days)
        current = replace(current, status=Status.PAST_DUE, grace_until=grace)
    if current.status is Status.PAST_DUE and current.grace_until is not None and now >= current.grace_until:
        current = replace(current, status=Status.LAPSED, ended_at=current.grace_until)
        return Transition(current, (_ended(current),))
    return Transition(current, ())


def _ended(membership: Membership) -> MembershipEnded:
    assert membership.ended_at is not None
    return _event(MembershipEnded, membership, membership.ended_at, was_trial=membership.trial)


_E = TypeVar("_E", bound=MembershipEvent)


def _event(kind: type[_E], membership: Membership, at: datetime, **facts: Any) -> _E:
    """An event of ``kind`` at ``at`` that says where ``membership`` stands after it (program and member are filled
    in by ``stamped``)."""
    return kind(
        program_id=0,
        member_id=None,
        occurred_at=at,
        plan=membership.plan,
        period=membership.period.value,
        status=membership.status.value,
        current_period_end=membership.current_period_end,
        **facts,
    )


def decide(
    current: Membership | None,
    plans: Mapping[str, Plan],
    instruction: Instruction,
    *,
    zone: ZoneInfo,
    currency: str,
) -> Transition:
    """What ``instruction`` does to the member's membership (``current``, as last written; time's changes up to the
    instruction's moment are applied first). Raises ``MembershipRefused``. The events carry no program or member:
    the caller fills them in (``stamped``)."""
    settled_events: tuple[MembershipEvent, ...] = ()
    if current is not None and current.plan in plans:
        settled = settle(current, plans[current.plan], instruction.at)
        current, settled_events = settled.membership, settled.events
    is_current = current is not None and current.status.is_current
    if instruction.kind is Kind.START:
        found = _start(current, plans, instruction, zone, currency)
    elif instruction.kind is Kind.RENEW and not is_current:
        found = _start_by_payment(current, plans, instruction, zone, currency)
    elif current is None or not is_current:
        raise MembershipRefused(Refusal.NOT_MEMBER, "the member has no current membership")
    elif instruction.kind is Kind.RENEW:
        found = _renew(current, plans, instruction, zone, currency)
    elif instruction.kind is Kind.FAIL:
        found = _fail(current, plans.get(current.plan), instruction)
    else:
        found = _cancel(current, plans.get(current.plan), instruction, currency)
    return Transition(found.membership, settled_events + found.events)


def _plan(plans: Mapping[str, Plan], code: str, *, selling: bool) -> Plan:
    plan = plans.get(code)
    if plan is None or (selling and not plan.enabled):
        raise MembershipRefused(Refusal.PLAN_UNKNOWN, f"the program sells no plan {code!r}")
    return plan


def _start(
    current: Membership | None,
    plans: Mapping[str, Plan],
    instruction: Instruction,
    zone: ZoneInfo,
    currency: str,
    *,
    trialled: frozenset[str] = frozenset(),
) -> Transition:
    assert instruction.plan is not None
    if current is not None and current.status.is_current:
        same_subscription = instruction.subscription_ref is not None and (
            current.subscription_ref == instruction.subscription_ref
        )
        if current.payment_ref == instruction.payment_ref or same_subscription:
            return Transition(current, ())  # the same start told again (or by the API, then by the provider)
        raise MembershipRefused(Refusal.ALREADY_MEMBER, f"the member is already on plan {current.plan!r}")
    plan = _plan(plans, instruction.plan, selling=True)
    instruction = replace(instruction, period=instruction.period or _period_paid(plan, instruction))
    assert instruction.period is not None
    if instruction.period not in plan.prices:
        raise MembershipRefused(
            Refusal.PERIOD_NOT_OFFERED, f"plan {plan.code!r} is not sold by the {instruction.period.value}"
        )
    trialled = trialled | (current.trialled if current is not None else frozenset())
    trial = plan.trial_days > 0 and plan.code not in trialled
    at = instruction.at
    end = instruction.paid_until or (
        at + timedelta(days=plan.trial_days) if trial else period_end(at, instruction.period, zone)
    )
    paid = 0 if trial else _paid(instruction, plan, instruction.period, currency)
    membership = Membership(
        plan=plan.code,
        period=instruction.period,
        status=Status.TRIALING if trial else Status.ACTIVE,
        started_at=at,
        current_period_start=at,
        current_period_end=max(end, at),
        paid_minor=paid,
        trial=trial,
        payment_ref=instruction.payment_ref,
        subscription_ref=instruction.subscription_ref,
        trialled=trialled | {plan.code} if trial else trialled,
        gifted_until=None,
    )
    event = _event(
        MembershipStarted,
        membership,
        at,
        trial=trial,
        paid_minor=paid,
        currency=currency,
    )
    return Transition(membership, (event,))


def _period_paid(plan: Plan, instruction: Instruction) -> BillingPeriod:
    """The period a start that does not name one is for: the plan's only period, else by the length of the period
    paid (a provider that does not say: Stripe's invoices since its 2025 API versions), else by the month."""
    if len(plan.prices) == 1:
        return next(iter(plan.prices))
    if instruction.paid_until is not None and instruction.paid_until - instruction.at > timedelta(days=62):
        return BillingPeriod.YEAR
    return BillingPeriod.MONTH


def _paid(instruction: Instruction, plan: Plan, period: BillingPeriod, currency: str) -> int:
    """What was paid for the period: as the provider says, else the plan's price."""
    if instruction.paid_minor is not None:
        return instruction.paid_minor
    return to_minor(plan.prices[period], currency)


def _renew(
    current: Membership, plans: Mapping[str, Plan], instruction: Instruction, zone: ZoneInfo, currency: str
) -> Transition:
    if instruction.payment_ref is not None and instruction.payment_ref == current.payment_ref:
        return Transition(current, ())  # this payment renewed it already
    plan = _plan(plans, instruction.plan or current.plan, selling=instruction.plan not in (None, current.plan))
    period = instruction.period or current.period
    if period not in plan.prices:
        raise MembershipRefused(Refusal.PERIOD_NOT_OFFERED, f"plan {plan.code!r} is not sold by the {period.value}")
    # A renewal continues from the end of the period paid for, however early or late the payment comes (inside the
    # grace), so the member neither loses days nor gains the grace; paying during a trial ends the trial then. A
    # payment after the grace ended starts afresh (``_rejoin_by_payment``).
    start = min(instruction.at, current.current_period_end) if current.trial else current.current_period_end
    end = instruction.paid_until or period_end(start, period, zone)
    membership = replace(
        current,
        plan=plan.code,
        period=period,
        status=Status.ACTIVE,
        current_period_start=start,
        current_period_end=max(end, start),
        paid_minor=_paid(instruction, plan, period, currency),
        trial=False,
        cancel_at_period_end=False,
        payment_ref=instruction.payment_ref,
        subscription_ref=instruction.subscription_ref or current.subscription_ref,
        grace_until=None,
        failed_at=None,
    )
    event = _event(
        MembershipRenewed,
        membership,
        instruction.at,
        paid_minor=membership.paid_minor,
        currency=currency,
        converted=current.trial,
        recovered=current.failed_at is not None,
    )
    return Transition(membership, (event,))


def _start_by_payment(
    current: Membership | None, plans: Mapping[str, Plan], instruction: Instruction, zone: ZoneInfo, currency: str
) -> Transition:
    """A payment when no membership is current: one that lapsed and whose provider kept retrying, or one whose
    start was never told (a provider connected mid-subscription, deliveries out of order). A new membership from the
    payment, on the plan it names or the one that lapsed, without a trial (it was paid)."""
    plan = instruction.plan or (current.plan if current is not None else None)
    period = instruction.period or (current.period if current is not None else None)
    if plan is None or period is None:
        raise MembershipRefused(Refusal.NOT_MEMBER, "the member has no membership, and the payment names no plan")
    start = replace(instruction, kind=Kind.START, plan=plan, period=period)
    trialled = (current.trialled if current is not None else frozenset()) | {plan}
    if current is None:
        return _start(None, plans, start, zone, currency, trialled=trialled)
    return _start(replace(current, trialled=trialled), plans, start, zone, currency)


def _fail(current: Membership, plan: Plan | None, instruction: Instruction) -> Transition:
    if current.failed_at is not None:
        return Transition(current, ())  # a retry that failed again: the grace runs from the first failure
    # The grace runs from the failure or from the end of the period paid for, whichever is later: a payment for the
    # next period that fails early does not cut short the period already paid.
    grace_days = plan.grace_days if plan is not None else 0
    grace = max(instruction.at, current.current_period_end) + timedelta(days=grace_days)
    membership = replace(current, status=Status.PAST_DUE, grace_until=grace, failed_at=instruction.at)
    assert membership.grace_until is not None
    event = _event(
        MembershipPaymentFailed,
        membership,
        instruction.at,
        grace_until=membership.grace_until,
    )
    return Transition(membership, (event,))


def _cancel(current: Membership, plan: Plan | None, instruction: Instruction, currency: str) -> Transition:
    if instruction.at_period_end:
        if current.cancel_at_period_end:
            return Transition(current, ())
        membership = replace(current, cancel_at_period_end=True)
        refund = 0
    else:
        refund = pro_rata_refund(current, instruction.at) if plan and plan.cancel_refund is CancelRefund.PRO_RATA else 0
        membership = replace(current, status=Status.CANCELLED, ended_at=instruction.at, grace_until=None)
    event = _event(
        MembershipCancelled,
        membership,
        instruction.at,
        at_period_end=instruction.at_period_end,
        refund_minor=refund,
        currency=currency,
    )
    return Transition(membership, (event,))


def pro_rata_refund(membership: Membership, at: datetime) -> int:
    """The unused share of what was paid for the current period, rounded down to the minor unit (never more than
    was paid, never negative; nothing for a trial, which was not paid)."""
    whole = (membership.current_period_end - membership.current_period_start).total_seconds()
    unused = (membership.current_period_end - max(at, membership.current_period_start)).total_seconds()
    if whole <= 0 or unused <= 0 or membership.paid_minor <= 0:
        return 0
    return min(membership.paid_minor, int(Decimal(membership.paid_minor) * Decimal(unused) // Decimal(whole)))


def stamped(events: tuple[MembershipEvent, ...], program_id: int, member_id: int) -> list[MembershipEvent]:
    """``events`` with their program and member."""
    return [replace(event, program_id=program_id, member_id=member_id) for event in events]


# --- perks --------------------------------------------------------------------------------------------------------


def current_perks(membership: Membership | None, plans: Mapping[str, Plan], now: datetime) -> tuple[Plan, Perks] | None:
    """The plan and perks the member has at ``now``; ``None`` without a current membership."""
    if membership is None or membership.plan not in plans:
        return None
    plan = plans[membership.plan]
    return (plan, plan.perks) if as_of(membership, plan, now).status.is_current else None


def gifts_due(membership: Membership, plan: Plan, now: datetime, zone: ZoneInfo) -> list[datetime]:
    """The starts of the membership months whose monthly reward is due by ``now`` and not given yet: the first on the
    day the membership starts, then on the same day each month while it is current. At most 24 (a job that was off
    for two years gives two years' gifts, not an unbounded loop)."""
    if plan.perks.monthly_reward is None:
        return []
    current = as_of(membership, plan, now)
    until = now if current.status.is_current else min(now, current.ended_at or now)
    due: list[datetime] = []
    for month in range(0, 12 * 100):
        moment = months_after(membership.started_at, month, zone)
        if moment > until or (moment == until and not current.status.is_current) or len(due) == 24:
            break
        if membership.gifted_until is None or moment >= membership.gifted_until:
            due.append(moment)
    return due
