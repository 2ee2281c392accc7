"""The memberships page: the paid plans the program sells (prices, trial, grace, perks, in words), its members by plan
and status as of now, monthly recurring revenue and paying members, and month by month the starts, conversions,
cancellations, ends, paid churn and trial conversion (``membership.figures``, where each figure is defined).
Read-only: plans are set in the program file's ``membership_plans``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from babel.dates import format_date
from fastapi.responses import HTMLResponse

from punchcard.admin import render
from punchcard.admin.frame import Frame
from punchcard.kit.money import from_minor
from punchcard.membership import figures as membership_figures
from punchcard.membership.domain import BillingPeriod, CancelRefund, Perks, Plan
from punchcard.membership.figures import MembershipFigures, MonthFigures, PlanRevenue, StatusCounts
from punchcard.program.domain import Program

PERIODS = (BillingPeriod.MONTH, BillingPeriod.YEAR)


def _plural(count: int, one: str, many: str) -> str:
    return f"{render.number(count)} {one if count == 1 else many}"


def amount(minor: int, currency: str) -> str:
    return render.money(from_minor(minor, currency), currency)


def prices(plan: Plan, currency: str) -> str:
    """``€4.99 a month or €49.00 a year``."""
    return " or ".join(
        f"{render.money(plan.prices[period], currency)} a {period.value}" for period in PERIODS if period in plan.prices
    )


def trial(plan: Plan) -> str:
    if not plan.trial_days:
        return "none: the first period is paid"
    return f"{_plural(plan.trial_days, 'day', 'days')}, free, once per member"


def grace(plan: Plan) -> str:
    if not plan.grace_days:
        return "none: a membership not paid for lapses when its period ends"
    return f"{_plural(plan.grace_days, 'day', 'days')} after a failed or missing payment, with the perks"


def refund(plan: Plan) -> str:
    if plan.cancel_refund is CancelRefund.PRO_RATA:
        return "the unused share of the period's payment (nothing for a trial)"
    return "nothing"


def perks(given: Perks, program: Program) -> list[str]:
    """Each perk in words, in the order the API lists them."""
    found = []
    if given.earn_multiplier != 1:
        found.append(f"×{render.number(given.earn_multiplier)} points on purchases, on top of the tier's")
    if given.free_shipping:
        found.append("free shipping")
    if given.percent_off is not None:
        categories = ", ".join(sorted(given.percent_off.categories))
        found.append(f"{render.number(given.percent_off.percent)}% off the categories {categories}")
    if given.early_access_hours:
        found.append(f"member-only offers {_plural(given.early_access_hours, 'hour', 'hours')} before others")
    if given.monthly_reward is not None:
        reward = program.reward(given.monthly_reward)
        name = f"“{render.text(reward.name)}” ({given.monthly_reward})" if reward is not None else given.monthly_reward
        found.append(f"a coupon for the reward {name} each month")
    found += [f"{code} (the shop's own perk)" for code in given.custom]
    return found


@dataclass(frozen=True)
class PlanBoard:
    plan: Plan
    prices: str
    trial: str
    grace: str
    refund: str
    perks: list[str]
    revenue: PlanRevenue


@dataclass(frozen=True)
class StatusRow:
    code: str
    name: str
    counts: StatusCounts
    is_in_program: bool


def month_label(month: MonthFigures) -> str:
    return format_date(month.first_day, "MMMM y", locale=render.LOCALE)


def boards(program: Program, found: MembershipFigures) -> tuple[list[PlanBoard], list[StatusRow]]:
    currency = program.currency
    revenue = {item.plan: item for item in found.revenue.plans}
    plans = [
        PlanBoard(
            plan,
            prices(plan, currency),
            trial(plan),
            grace(plan),
            refund(plan),
            perks(plan.perks, program),
            revenue[plan.code],
        )
        for plan in program.plans
    ]
    named = program.plans_by_code
    rows = [
        StatusRow(code, render.text(named[code].name) if code in named else code, counts, code in named)
        for code, counts in found.by_plan.items()
    ]
    return plans, rows


def page(frame: Frame, now: datetime) -> HTMLResponse:
    assert frame.version is not None
    program = frame.version.program
    found = membership_figures.figures(frame.session, frame.version.program_id, program.membership_terms, now)
    plans, rows = boards(program, found)
    return frame.page(
        "memberships.html",
        figures=found,
        plans=plans,
        rows=rows,
        total=membership_figures.total(row.counts for row in rows),
        periods=PERIODS,
        month_label=month_label,
        amount=amount,
        now=now,
    )
