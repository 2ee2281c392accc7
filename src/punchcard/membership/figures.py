"""Figures about a program's paid memberships for the console: members by plan and status as of now, monthly
recurring revenue, and month by month the starts, conversions, cancellations, ends, paid churn and trial conversion.

The arithmetic is pure (``as_of_now``, ``by_plan_and_status``, ``recurring_revenue``, ``month_figures``) over
memberships and changes handed in, so each figure can be checked against the rows it came from; ``figures`` reads
them. Statuses are as of ``now`` (``lifecycle.as_of``), since a stored status is stale until the jobs write time's
changes down; for the same reason the months count, beside the changes written, the ends time has made and the jobs
have not written yet (``unwritten``), so a figure does not wait for a job.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from punchcard.kit.calendar import add_months, local_date, start_of_local_day
from punchcard.kit.money import exponent, to_minor
from punchcard.membership import repository
from punchcard.membership.domain import (
    BillingPeriod,
    Membership,
    MembershipCancelled,
    MembershipEnded,
    MembershipEvent,
    MembershipRenewed,
    MembershipStarted,
    Plan,
    Status,
    Terms,
)
from punchcard.membership.lifecycle import as_of, settle
from punchcard.membership.models import MembershipChange

MONTHS_SHOWN = 6
"""The calendar months the console shows: the current one and the five before it."""


# --- as of now ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Held:
    """A member's membership as of now, and who holds it (the months' figures need the member)."""

    member_id: int
    membership: Membership
    written: Membership
    """As last written: time's changes since are ``unwritten``."""


def as_of_now(memberships: Iterable[tuple[int, Membership]], plans: Mapping[str, Plan], now: datetime) -> list[Held]:
    """Each member's membership as of ``now``; one on a plan the program no longer has stays as written (time
    changes it no more: ``service.settle_member``)."""
    found = []
    for member_id, membership in memberships:
        plan = plans.get(membership.plan)
        found.append(Held(member_id, as_of(membership, plan, now) if plan is not None else membership, membership))
    return found


@dataclass(frozen=True)
class StatusCounts:
    """Members on one plan by the status of their membership now. A member is counted once, by their latest
    membership (a member who left and rejoined is counted as they are now)."""

    trialing: int = 0
    active: int = 0
    past_due: int = 0
    lapsed: int = 0
    cancelled: int = 0
    cancelling: int = 0
    """Of the current ones (trialing, active, past due), those cancelled at their period's end."""

    @property
    def current(self) -> int:
        return self.trialing + self.active + self.past_due

    @property
    def ended(self) -> int:
        return self.lapsed + self.cancelled


def by_plan_and_status(held: Sequence[Held], plans: Sequence[str]) -> dict[str, StatusCounts]:
    """``StatusCounts`` for each of ``plans`` (every one, in order, none left out for having no member), then for
    each other plan a membership is on (a plan removed from the program file), by code."""
    statuses: dict[str, Counter[Status]] = {code: Counter() for code in plans}
    cancelling: Counter[str] = Counter()
    for item in held:
        membership = item.membership
        statuses.setdefault(membership.plan, Counter())[membership.status] += 1
        if membership.status.is_current and membership.cancel_at_period_end:
            cancelling[membership.plan] += 1
    return {
        code: StatusCounts(
            trialing=counts[Status.TRIALING],
            active=counts[Status.ACTIVE],
            past_due=counts[Status.PAST_DUE],
            lapsed=counts[Status.LAPSED],
            cancelled=counts[Status.CANCELLED],
            cancelling=cancelling[code],
        )
        for code, counts in statuses.items()
    }


def total(counts: Iterable[StatusCounts]) -> StatusCounts:
    """The counts of several plans added up."""
    found = list(counts)
    names = ("trialing", "active", "past_due", "lapsed", "cancelled", "cancelling")
    return StatusCounts(**{name: sum(getattr(item, name) for item in found) for name in names})


def is_paying(membership: Membership) -> bool:
    """Active or past due (the grace keeps a member whose payment failed), and past its trial: a trial, even one whose
    first payment failed, has paid nothing."""
    return membership.status in (Status.ACTIVE, Status.PAST_DUE) and not membership.trial


@dataclass(frozen=True)
class PlanRevenue:
    plan: str
    paying: Mapping[BillingPeriod, int]
    """Paying members by the period they pay for, every period the plan sells included."""
    recurring_minor: int
    """Monthly recurring revenue, in minor units: each paying member's price for their period per month."""

    @property
    def paying_members(self) -> int:
        return sum(self.paying.values())


@dataclass(frozen=True)
class Revenue:
    plans: list[PlanRevenue]
    recurring_minor: int
    """Rounded once from the exact sum of all plans, so it may differ by a minor unit from the sum of the plans'
    rounded figures."""
    paying_members: int
    cancelling_minor: int
    """Of the recurring revenue, what members cancelled at their period's end bring: it stops with their period."""


def recurring_revenue(held: Sequence[Held], plans: Sequence[Plan], currency: str) -> Revenue:
    """Monthly recurring revenue now: over paying memberships (``is_paying``) on the program's plans, the plan's price
    for the member's period per month (``Plan.monthly_minor``: a yearly price counts a twelfth), per plan and in all,
    each rounded half up to the minor unit once, from the exact sum. A membership on a plan the program no longer has
    has no price to count."""
    digits = exponent(currency)
    total, cancelling = Fraction(0), Fraction(0)
    found, paying_members = [], 0
    for plan in plans:
        paying: dict[BillingPeriod, int] = dict.fromkeys(plan.prices, 0)
        exact = Fraction(0)
        for item in held:
            membership = item.membership
            if membership.plan != plan.code or not is_paying(membership) or membership.period not in plan.prices:
                continue
            paying[membership.period] += 1
            monthly = monthly_fraction(plan, membership.period, digits)
            exact += monthly
            if membership.cancel_at_period_end:
                cancelling += monthly
        found.append(PlanRevenue(plan.code, paying, rounded(exact, currency)))
        total += exact
        paying_members += sum(paying.values())
    return Revenue(found, rounded(total, currency), paying_members, rounded(cancelling, currency))


def monthly_fraction(plan: Plan, period: BillingPeriod, digits: int) -> Fraction:
    """``Plan.monthly_minor`` as an exact fraction. The ``Decimal`` of a yearly price's twelfth is rounded to 28
    digits, and a sum of such twelfths can fall a hair below a half it exactly is (1/12 + 1/12 + 4/12), which would
    then round the wrong way; summed as fractions, only the final rounding rounds."""
    return Fraction(plan.prices[period].scaleb(digits)) / period.months


def rounded(minor: Fraction, currency: str) -> int:
    """An exact amount of minor units rounded half up to a whole one (``kit.money.to_minor``). A fraction whose
    decimal does not end is never exactly a half, so the one division here cannot tip the rounding."""
    return to_minor((Decimal(minor.numerator) / Decimal(minor.denominator)).scaleb(-exponent(currency)), currency)


# --- month by month -----------------------------------------------------------------------------------------------

STARTED, RENEWED = MembershipStarted.type, MembershipRenewed.type
CANCELLED, ENDED = MembershipCancelled.type, MembershipEnded.type


@dataclass(frozen=True)
class Change:
    """One change of a member's membership, as the change log has it (``models.MembershipChange``)."""

    member_id: int
    kind: str
    status: Status
    """The status after the change."""
    trial: bool
    """A start into a trial, or an end of an unconverted trial."""
    converted: bool
    occurred_at: datetime
    order: int
    """Its place in the log (its id); a change time made and the jobs have not written comes after all written."""


UNWRITTEN = sys.maxsize


def change_of(row: MembershipChange) -> Change:
    """A row of the change log as the figures read it."""
    return Change(row.member_id, row.kind, Status(row.status), row.trial, row.converted, row.occurred_at, row.id)


def unwritten(held: Sequence[Held], plans: Mapping[str, Plan], now: datetime) -> list[Change]:
    """The changes time made by ``now`` that are not written yet (an end, a lapse: ``lifecycle.settle``, which the
    jobs will write down with the same moment)."""
    found = []
    for item in held:
        plan = plans.get(item.written.plan)
        if plan is None:
            continue
        for event in settle(item.written, plan, now).events:
            found.append(_change_of_event(item.member_id, event))
    return found


def _change_of_event(member_id: int, event: MembershipEvent) -> Change:
    trial = bool(getattr(event, "trial", False) or getattr(event, "was_trial", False))
    converted = bool(getattr(event, "converted", False))
    return Change(member_id, event.type, Status(event.status), trial, converted, event.occurred_at, UNWRITTEN)


@dataclass
class _Standing:
    """Where a member's membership stands in the fold over the log: current or not, and in a trial or not."""

    is_current: bool = False
    is_trial: bool = False

    @property
    def is_paying(self) -> bool:
        return self.is_current and not self.is_trial

    def apply(self, change: Change) -> None:
        self.is_current = change.status.is_current
        if change.kind == STARTED:
            self.is_trial = change.trial
        elif change.kind == RENEWED:
            self.is_trial = False  # every payment ends a trial


@dataclass(frozen=True)
class MonthFigures:
    """One calendar month in the program's zone, from its first instant (``starts_at``) to the next month's
    (``ends_at``); the current month is counted up to now."""

    first_day: date
    starts_at: datetime
    ends_at: datetime
    paying_at_start: int = 0
    """Memberships paying (active or past due, trial over) at the month's first instant."""
    trial_starts: int = 0
    paid_starts: int = 0
    """New memberships paid from the start: on a plan without a trial, a rejoin, or a payment after a lapse."""
    conversions: int = 0
    """Trials whose first payment came in the month (a renewal marked ``converted``)."""
    cancellations: int = 0
    """Cancellations told in the month, at the period's end or at once."""
    ended_lapsed: int = 0
    """Memberships whose grace ran out in the month without a payment (trials included)."""
    ended_cancelled: int = 0
    """Memberships that ended by a cancellation in the month: at once, or at the end of a period that ended in it."""
    churned: int = 0
    """Of the ``paying_at_start``, those whose membership ended in the month."""
    trials_ended: int = 0
    """Trials that ended in the month without a payment: lapsed, or cancelled."""

    @property
    def ended(self) -> int:
        return self.ended_lapsed + self.ended_cancelled

    @property
    def trials_finished(self) -> int:
        return self.conversions + self.trials_ended

    @property
    def churn_rate(self) -> Decimal | None:
        """Paid churn: ``churned`` ÷ ``paying_at_start``; none when nobody was paying at the start."""
        return Decimal(self.churned) / self.paying_at_start if self.paying_at_start else None

    @property
    def trial_conversion(self) -> Decimal | None:
        """``conversions`` ÷ trials finished in the month (converted or ended); none when none finished."""
        return Decimal(self.conversions) / self.trials_finished if self.trials_finished else None


@dataclass
class _Tally:
    """A month's counts while the fold goes through it."""

    paying_at_start: frozenset[int]
    counts: Counter[str] = field(default_factory=Counter)
    churned: set[int] = field(default_factory=set)

    def count(self, change: Change, before: _Standing) -> None:
        if change.kind == STARTED:
            self.counts["trial_starts" if change.trial else "paid_starts"] += 1
        elif change.kind == RENEWED and change.converted:
            self.counts["conversions"] += 1
        if change.kind == CANCELLED:
            self.counts["cancellations"] += 1
        is_end = change.kind == ENDED or (change.kind == CANCELLED and not change.status.is_current)
        if not is_end:
            return
        self.counts["ended_lapsed" if change.status is Status.LAPSED else "ended_cancelled"] += 1
        if change.trial or before.is_trial:  # an ended row says was_trial; a cancellation at once does not
            self.counts["trials_ended"] += 1
        if change.member_id in self.paying_at_start:
            self.churned.add(change.member_id)  # the first end of the month is that of the membership paying then

    def figures(self, first_day: date, starts_at: datetime, ends_at: datetime) -> MonthFigures:
        counts = self.counts
        return MonthFigures(
            first_day,
            starts_at,
            ends_at,
            paying_at_start=len(self.paying_at_start),
            trial_starts=counts["trial_starts"],
            paid_starts=counts["paid_starts"],
            conversions=counts["conversions"],
            cancellations=counts["cancellations"],
            ended_lapsed=counts["ended_lapsed"],
            ended_cancelled=counts["ended_cancelled"],
            churned=len(self.churned),
            trials_ended=counts["trials_ended"],
        )


def month_starts(now: datetime, zone: ZoneInfo, count: int = MONTHS_SHOWN) -> list[date]:
    """The first days of the ``count`` calendar months up to ``now``'s, in ``zone``, oldest first."""
    this = local_date(now, zone).replace(day=1)
    return [add_months(this, -back) for back in range(count - 1, -1, -1)]


def month_figures(
    opening: Sequence[Change], changes: Sequence[Change], months: Sequence[date], zone: ZoneInfo, now: datetime
) -> list[MonthFigures]:
    """``MonthFigures`` for each month of ``months`` (first days, oldest first, consecutive). ``opening``: the log
    before the first month, or as much of it as decides where each membership stood then (a member's last change,
    and their last start or renewal: ``repository.standing_before``); ``changes``: the log from the first month's
    start on. Changes after ``now`` are not counted. Folded in order of ``occurred_at``, then of the log."""
    standing: dict[int, _Standing] = {}
    for change in sorted(opening, key=_in_order):
        standing.setdefault(change.member_id, _Standing()).apply(change)
    pending = sorted((change for change in changes if change.occurred_at <= now), key=_in_order)
    found = []
    for first_day in months:
        starts_at = start_of_local_day(first_day, zone)
        ends_at = start_of_local_day(add_months(first_day, 1), zone)
        while pending and pending[0].occurred_at < starts_at:  # before the first month: opening, not counted
            change = pending.pop(0)
            standing.setdefault(change.member_id, _Standing()).apply(change)
        tally = _Tally(frozenset(member for member, held in standing.items() if held.is_paying))
        while pending and pending[0].occurred_at < ends_at:
            change = pending.pop(0)
            before = standing.setdefault(change.member_id, _Standing())
            tally.count(change, _Standing(before.is_current, before.is_trial))
            before.apply(change)
        found.append(tally.figures(first_day, starts_at, ends_at))
    return found


def _in_order(change: Change) -> tuple[datetime, int]:
    return change.occurred_at, change.order


# --- read -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MembershipFigures:
    by_plan: dict[str, StatusCounts]
    revenue: Revenue
    months: list[MonthFigures]

    @property
    def has_memberships(self) -> bool:
        return any(counts.current or counts.ended for counts in self.by_plan.values())


def figures(session: Session, program_id: int, terms: Terms, now: datetime) -> MembershipFigures:
    """The program's membership figures at ``now``: its memberships as of now, and the months from the change log
    (two rows a member before the first month, every change since) and the changes time made that the jobs have not
    written yet."""
    plans = terms.plans
    held = as_of_now(
        ((row.member_id, repository.as_domain(row)) for row in repository.rows_of(session, program_id)), plans, now
    )
    months = month_starts(now, terms.zone)
    since = start_of_local_day(months[0], terms.zone)
    until = start_of_local_day(add_months(months[-1], 1), terms.zone)
    late = unwritten(held, plans, now)
    opening = [change_of(row) for row in repository.standing_before(session, program_id, since)]
    opening += [change for change in late if change.occurred_at < since]
    logged = [change_of(row) for row in repository.changes_between(session, program_id, since, until)]
    logged += [change for change in late if change.occurred_at >= since]
    return MembershipFigures(
        by_plan_and_status(held, list(plans)),
        recurring_revenue(held, list(plans.values()), terms.currency),
        month_figures(opening, logged, months, terms.zone, now),
    )
