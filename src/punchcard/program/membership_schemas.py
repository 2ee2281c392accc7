"""The program file's ``membership_plans`` section (docs/program-file.md), turned into ``membership.domain.Plan``."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Self

from pydantic import Field, model_validator

from punchcard.i18n.text import Text
from punchcard.membership.domain import BillingPeriod, CancelRefund, PercentOff, Perks, Plan
from punchcard.program.file_types import Code, LocalText, OptionalLocalText, Strict, unique
from punchcard.rules import domain as rules

PlanCode = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,49}$")]
"""A code like the others, a little shorter: the plan's extra points carry it as the rule ``plan:<code>``."""
Price = Annotated[Decimal, Field(gt=0, le=1_000_000, allow_inf_nan=False)]
Percent = Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False)]


class PercentOffSpec(Strict):
    percent: Percent
    categories: list[str] = Field(min_length=1)
    """The product categories the member price applies to (the order lines' ``category``)."""


class PerksSpec(Strict):
    earn_multiplier: Annotated[Decimal, Field(ge=1, le=100, allow_inf_nan=False)] = Decimal(1)
    free_shipping: bool = False
    percent_off: PercentOffSpec | None = None
    early_access_hours: Annotated[int, Field(ge=0, le=24 * 365)] = 0
    monthly_reward: Code | None = None
    """A reward of ``rewards``, given as a coupon each month of the membership without spending points."""
    custom: list[Code] = []
    """The shop's own perks (``lounge``, ``tasting``), which earning rules may test with ``has_perk``."""

    def to_domain(self) -> Perks:
        off = self.percent_off
        return Perks(
            earn_multiplier=self.earn_multiplier,
            free_shipping=self.free_shipping,
            percent_off=PercentOff(off.percent, frozenset(off.categories)) if off is not None else None,
            early_access_hours=self.early_access_hours,
            monthly_reward=self.monthly_reward,
            custom=tuple(self.custom),
        )


class PlanSpec(Strict):
    code: PlanCode
    name: LocalText
    description: OptionalLocalText = ""
    prices: dict[BillingPeriod, Price] = Field(min_length=1)
    """The price per period sold, in the program's currency: ``{month: 4.99, year: 49.00}``."""
    trial_days: Annotated[int, Field(ge=0, le=365)] = 0
    grace_days: Annotated[int, Field(ge=0, le=90)] = 7
    cancel_refund: CancelRefund = CancelRefund.PRO_RATA
    perks: PerksSpec = PerksSpec()
    enabled: bool = True

    @model_validator(mode="after")
    def _perks_given(self) -> Self:
        if self.perks.to_domain().codes() == frozenset():
            raise ValueError(f"plan {self.code!r} gives no perk")
        return self

    def bonus_rule(self, language: str) -> rules.Rule | None:
        """The plan's earn multiplier as an earning rule of its own (``plan:<code>``), so the ledger and the
        response name it like any rule: on purchases, for members on the plan, ×multiplier on top of the tier's."""
        multiplier = self.perks.earn_multiplier
        if multiplier == 1:
            return None
        return rules.Rule(
            code=f"plan:{self.code}",
            name=Text.of(self.name, language),
            event_type=rules.PURCHASE,
            action=rules.Multiply(multiplier),
            conditions=(rules.PlanIn(frozenset({self.code})),),
        )

    def to_domain(self, language: str) -> Plan:
        return Plan(
            code=self.code,
            name=Text.of(self.name, language),
            description=Text.of(self.description, language),
            prices=dict(self.prices),
            perks=self.perks.to_domain(),
            trial_days=self.trial_days,
            grace_days=self.grace_days,
            cancel_refund=self.cancel_refund,
            enabled=self.enabled,
        )


def check_plans(plans: list[PlanSpec], rewards: list[str] | None) -> None:
    """Plan codes are unique and a monthly reward is one of the file's rewards (checked when those are valid)."""
    unique([plan.code for plan in plans], "membership plan")
    for plan in plans:
        reward = plan.perks.monthly_reward
        if rewards is not None and reward is not None and reward not in rewards:
            raise ValueError(f"plan {plan.code!r}: monthly_reward {reward!r} is not one of the rewards")
