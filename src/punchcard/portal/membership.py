"""What the membership page and the home page's summary say: a membership's status, price, payment and perks, and the
plans on sale, in the member's words.

Nothing here decides: the membership is the one the membership service gives the API (``membership.service.view``,
time's changes applied by ``as_of``) and the plans are the program's; this only words them, with dates in the
program's time zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.lists import format_list
from babel.numbers import format_percent

from punchcard.i18n.translator import Translator
from punchcard.kit.calendar import local_date
from punchcard.membership.domain import BillingPeriod, Plan, Status
from punchcard.program.domain import Program

PRICE = {BillingPeriod.MONTH: "membership.price.month", BillingPeriod.YEAR: "membership.price.year"}
ENDED = {Status.LAPSED: "membership.status.lapsed", Status.CANCELLED: "membership.status.cancelled"}
"""How a membership that is over says why, with the day it ended."""


def _day(ui: Translator, moment: str, zone: ZoneInfo) -> str:
    """A moment of the view (ISO 8601) as its day in the program's time zone, in the member's language."""
    return ui.date(local_date(datetime.fromisoformat(moment), zone))


def status(ui: Translator, view: Mapping[str, Any], zone: ZoneInfo) -> str:
    """Where the membership stands and until when: in its trial, renewing, kept in a grace after a failed payment,
    cancelled but current to its period's end, or over (and why)."""
    state = Status(view["status"])
    if state in ENDED:
        return ui.t(ENDED[state], date=_day(ui, view["ended_at"] or view["current_period_end"], zone))
    if view["cancel_at_period_end"]:  # time ends it at the period's end, before any grace (``lifecycle.settle``)
        return ui.t("membership.status.cancelling", date=_day(ui, view["current_period_end"], zone))
    if state is Status.PAST_DUE:
        return ui.t(
            "membership.status.past_due", date=_day(ui, view["grace_until"] or view["current_period_end"], zone)
        )
    if state is Status.TRIALING:
        return ui.t("membership.status.trialing", date=_day(ui, view["current_period_end"], zone))
    return ui.t("membership.status.active", date=_day(ui, view["current_period_end"], zone))


def price(ui: Translator, amount: Decimal, currency: str, period: BillingPeriod) -> str:
    """ "€4.99 a month"."""
    return ui.t(PRICE[period], price=ui.money(amount, currency))


def prices(ui: Translator, plan: Plan, currency: str) -> str:
    """What a plan costs by each period it is sold for: "€4.99 a month or €49.00 a year"."""
    each = [price(ui, plan.prices[period], currency, period) for period in BillingPeriod if period in plan.prices]
    if len(each) == 1:
        return each[0]
    return ui.t("membership.prices.either", month=each[0], year=each[1])


def _percent(ui: Translator, value: Decimal) -> str:
    """A percentage (``10`` is 10 %) with its fraction kept: a member price of 12.5 % is not 12 %."""
    return format_percent(value / 100, locale=ui.language, decimal_quantization=False)


def perk(ui: Translator, program: Program, described: Mapping[str, Any]) -> str:
    """One perk as the API describes it (``Perks.described``), in words; the shop's own perk codes as they are."""
    code = str(described["code"])
    if code == "earn_multiplier" and "multiplier" in described:
        return ui.t("membership.perk.earn_multiplier", multiplier=ui.number(Decimal(str(described["multiplier"]))))
    if code == "free_shipping":
        return ui.t("membership.perk.free_shipping")
    if code == "percent_off" and "percent" in described:
        categories = format_list([str(category) for category in described["categories"]], locale=ui.language)
        percent = _percent(ui, Decimal(str(described["percent"])))
        return ui.t("membership.perk.percent_off", percent=percent, categories=categories)
    if code == "early_access" and "hours" in described:
        return ui.n("membership.perk.early_access", int(described["hours"]))
    if code == "monthly_reward" and "reward" in described:
        reward = program.reward(str(described["reward"]))
        name = ui.text(reward.name) if reward is not None else str(described["reward"])
        return ui.t("membership.perk.monthly_reward", reward=name)
    return code


# --- the member's membership --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MembershipCard:
    plan: str
    """The plan's code."""
    name: str
    description: str
    status: Status
    words: str
    """The status in words, with its date."""
    price: str | None
    """The price per period, while it is current."""
    paid: str | None
    """What was paid for the current period, while it is current."""
    perks: list[str]

    @property
    def is_current(self) -> bool:
        return self.status.is_current


def membership_card(ui: Translator, program: Program, view: Mapping[str, Any]) -> MembershipCard:
    """The member's membership (the service's ``view``) in words."""
    plan = program.plans_by_code.get(view["plan"])
    state = Status(view["status"])
    asked, paid = view["price"], view["paid"]
    period = BillingPeriod(view["period"])
    if not state.is_current:
        shown_price = shown_paid = None
    else:
        shown_price = price(ui, Decimal(asked["amount"]), asked["currency"], period) if asked else None
        paid_money = ui.money(Decimal(paid["amount"]), paid["currency"])
        shown_paid = ui.t("membership.paid.trial") if state is Status.TRIALING else paid_money
    return MembershipCard(
        plan=view["plan"],
        name=view["plan_name"],
        description=ui.text(plan.description) if plan is not None else "",
        status=state,
        words=status(ui, view, program.zone),
        price=shown_price,
        paid=shown_paid,
        perks=[perk(ui, program, described) for described in view["perks"]],
    )


# --- the plans on sale --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanOffer:
    plan: str
    """The plan's code."""
    name: str
    description: str
    prices: str
    trial: str | None
    """The free trial, for a plan whose trial the member has not had."""
    perks: list[str]


def offers(ui: Translator, program: Program, trialled: frozenset[str]) -> list[PlanOffer]:
    """The plans sold now (not the withdrawn ones), in the program's order; a trial is offered once per member and
    plan, so a plan the member has had the trial of offers none."""
    return [
        PlanOffer(
            plan=plan.code,
            name=ui.text(plan.name),
            description=ui.text(plan.description),
            prices=prices(ui, plan, program.currency),
            trial=ui.n("membership.plan.trial", plan.trial_days)
            if plan.trial_days and plan.code not in trialled
            else None,
            perks=[perk(ui, program, described) for described in plan.perks.described()],
        )
        for plan in program.plans
        if plan.enabled
    ]
