"""The program file's earning rules: when, if (conditions), then (one action), limits."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import Field, PlainSerializer, PositiveInt, model_validator

from punchcard.i18n.text import Text
from punchcard.kit.calendar import Period
from punchcard.program.file_types import Code, LineSelector, LocalText, NonNegativeDecimal, Strict
from punchcard.rules import domain as rules
from punchcard.wallet.domain import Cashback


class Bounds(Strict):
    min: Decimal | None = None
    max: Decimal | None = None

    def to_domain(self) -> rules.Range:
        return rules.Range(self.min, self.max)


def _keep_numbers_numeric(value: object) -> object:
    """Stored definitions are JSON: a decimal compared by ``equals`` must come back a number, not the string "4.5"."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


Scalar = Annotated[bool | int | Decimal | str, PlainSerializer(_keep_numbers_numeric)]


class AttributeCondition(Strict):
    equals: Scalar | None = None
    one_of: list[Scalar] | None = None
    min: Decimal | None = None
    max: Decimal | None = None

    @model_validator(mode="after")
    def _one_test(self) -> Self:
        tests = [self.equals is not None, self.one_of is not None, self.min is not None or self.max is not None]
        if sum(tests) != 1:
            raise ValueError("give exactly one of: equals, one_of, min/max")
        return self

    def to_domain(self, name: str) -> rules.AttributeTest:
        bounds = rules.Range(self.min, self.max) if self.min is not None or self.max is not None else None
        one_of = tuple(self.one_of) if self.one_of is not None else None
        return rules.AttributeTest(name, equals=self.equals, one_of=one_of, range=bounds)


class DateSpan(Strict):
    from_: date | None = Field(None, alias="from")
    to: date | None = None


class Conditions(Strict):
    """All given conditions must hold (AND)."""

    order_total: Bounds | None = None
    has_lines: LineSelector | None = None
    tier: list[Code] | None = None
    plan: list[Code] | None = None
    """The member is on one of these ``membership_plans`` (and it is current)."""
    has_perk: list[Code] | None = None
    """The member has one of these perks: a tier's or a plan's (``free_shipping``, ``earn_multiplier``, ...)."""
    weekdays: list[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]] | None = None
    dates: DateSpan | None = None
    member: dict[str, AttributeCondition] = {}
    attributes: dict[str, AttributeCondition] = {}

    def to_domain(self) -> tuple[rules.Condition, ...]:
        found: list[rules.Condition] = []
        if self.order_total is not None:
            found.append(rules.OrderTotalIn(self.order_total.to_domain()))
        if self.has_lines is not None:
            found.append(rules.HasLine(self.has_lines.to_domain()))
        if self.tier is not None:
            found.append(rules.TierIn(frozenset(self.tier)))
        if self.plan is not None:
            found.append(rules.PlanIn(frozenset(self.plan)))
        if self.has_perk is not None:
            found.append(rules.HasPerk(frozenset(self.has_perk)))
        if self.weekdays is not None:
            found.append(rules.WeekdayIn(frozenset(self.weekdays)))
        if self.dates is not None:
            found.append(rules.DateBetween(self.dates.from_, self.dates.to))
        found += [rules.MemberAttribute(test.to_domain(name)) for name, test in self.member.items()]
        found += [rules.EventAttribute(test.to_domain(name)) for name, test in self.attributes.items()]
        return tuple(found)


class Action(Strict):
    """Exactly one of ``points``, ``points_per_currency_unit``, ``multiply_by`` or ``cashback_percent``."""

    points: NonNegativeDecimal | None = None
    points_per_currency_unit: NonNegativeDecimal | None = None
    lines: LineSelector = LineSelector()
    include_shipping: bool = False
    multiply_by: Literal["tier"] | Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = None
    cashback_percent: Annotated[Decimal, Field(gt=0, le=100, allow_inf_nan=False)] | None = None
    """Store credit instead of points: this percentage of the value of the lines ``lines`` selects."""

    @model_validator(mode="after")
    def _one_action(self) -> Self:
        given = [self.points, self.points_per_currency_unit, self.multiply_by, self.cashback_percent]
        if sum(value is not None for value in given) != 1:
            raise ValueError("give exactly one of: points, points_per_currency_unit, multiply_by, cashback_percent")
        if self.cashback_percent is not None and self.include_shipping:
            raise ValueError("cashback is a share of the lines; shipping is never part of it")
        return self

    def to_domain(self) -> rules.Action:
        if self.cashback_percent is not None:
            return Cashback(self.cashback_percent, self.lines.to_domain())
        if self.points is not None:
            return rules.AwardFixed(self.points)
        if self.points_per_currency_unit is not None:
            return rules.AwardPerCurrencyUnit(
                self.points_per_currency_unit, self.lines.to_domain(), self.include_shipping
            )
        assert self.multiply_by is not None
        return rules.Multiply(self.multiply_by)


class Limit(Strict):
    times: PositiveInt
    per: Period


class EarningRule(Strict):
    code: Code
    name: LocalText
    when: str = Field(min_length=1, max_length=63, pattern=r"^[a-z][a-z0-9_]*$")
    priority: int = 0
    if_: Conditions = Field(Conditions(), alias="if")
    then: Action
    limit: Limit | None = None
    max_points: NonNegativeDecimal | None = None
    stop: bool = False
    enabled: bool = True

    @model_validator(mode="after")
    def _refund_is_not_earning(self) -> Self:
        if self.when == rules.REFUND:
            raise ValueError("refunds reverse points automatically; a rule cannot be triggered by 'refund'")
        return self

    @model_validator(mode="after")
    def _cashback_is_for_purchases(self) -> Self:
        if self.then.cashback_percent is None:
            return self
        if self.when != rules.PURCHASE:
            raise ValueError(f"rule {self.code!r}: cashback is a share of a purchase; use it with when: purchase")
        if self.limit is not None or self.max_points is not None:
            raise ValueError(f"rule {self.code!r}: limit and max_points count points; a cashback rule gives none")
        return self

    def to_domain(self, language: str) -> rules.Rule:
        limit = rules.FiredFewerThan(self.code, self.limit.times, self.limit.per) if self.limit else None
        return rules.Rule(
            code=self.code,
            name=Text.of(self.name, language),
            event_type=self.when,
            action=self.then.to_domain(),
            conditions=self.if_.to_domain(),
            priority=self.priority,
            max_points=self.max_points,
            limit=limit,
            stop=self.stop,
            enabled=self.enabled,
        )
