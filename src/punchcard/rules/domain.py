"""Pure evaluation of earning rules.

A rule is *when* (an event type), *if* (conditions over the event and the member, including how often the rule already
fired for this member in a period) and *then* (an action). Award actions add points (a fixed amount, or a rate per
currency unit over selected lines); multiply actions scale the points the award rules gave (the tier multiplier is such
a rule). Points are added up as exact decimals, rounded once per event, and the rounded total is shared back to the
rules by largest remainder so that every effect names the rule that produced it and the effects add up to the total.

Nothing here reads a clock, a database or a setting: the caller supplies the facts and ``occurred_at``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import ClassVar, Protocol, cast
from zoneinfo import ZoneInfo

from punchcard.i18n.text import Text
from punchcard.kit.calendar import Period, local_date

PURCHASE = "purchase"
REFUND = "refund"
MEMBER_ENROLLED = "member_enrolled"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Rounding(StrEnum):
    DOWN = "down"
    HALF_UP = "half_up"
    UP = "up"

    def apply(self, value: Decimal) -> int:
        mode = {Rounding.DOWN: ROUND_FLOOR, Rounding.HALF_UP: ROUND_HALF_UP, Rounding.UP: ROUND_CEILING}[self]
        return int(value.quantize(Decimal(1), rounding=mode))


@dataclass(frozen=True)
class Line:
    sku: str
    category: str
    quantity: Decimal
    unit_price: Decimal

    @property
    def value(self) -> Decimal:
        return self.quantity * self.unit_price


@dataclass(frozen=True)
class EventFacts:
    """What the rules may look at in an event."""

    type: str
    occurred_at: datetime
    lines: tuple[Line, ...] = ()
    shipping: Decimal = Decimal(0)
    attributes: Mapping[str, object] = field(default_factory=dict)
    amount: Decimal | None = None
    """An amount the event states (a refund's, a membership payment's), in the program's currency."""
    refunded: Mapping[str, Decimal] = field(default_factory=dict)
    """A refund of lines: the quantity refunded of each sku."""

    @property
    def order_total(self) -> Decimal:
        """Merchandise value of the order; shipping is not part of it."""
        return sum((line.value for line in self.lines), Decimal(0))


@dataclass(frozen=True)
class MemberFacts:
    """What the rules may look at in the member, as of the event."""

    tier_code: str | None = None
    tier_multiplier: Decimal = Decimal(1)
    attributes: Mapping[str, object] = field(default_factory=dict)
    firing_counts: Mapping[tuple[str, Period], int] = field(default_factory=dict)
    plan_code: str | None = None
    """The paid membership plan the member is on now (its perks hold), if any."""
    perks: frozenset[str] = frozenset()
    """The perk codes of the member's tier and plan."""
    early_access_hours: int = 0
    """How much earlier member-only offers open for them, by their plan."""


@dataclass(frozen=True)
class Context:
    event: EventFacts
    member: MemberFacts
    zone: ZoneInfo


# --- conditions ---------------------------------------------------------------------------------------------------


class Condition(Protocol):
    def holds(self, context: Context) -> bool: ...


@dataclass(frozen=True)
class LineFilter:
    """Selects order lines by category and sku; empty include lists mean "every line"."""

    categories: frozenset[str] = frozenset()
    skus: frozenset[str] = frozenset()
    exclude_categories: frozenset[str] = frozenset()
    exclude_skus: frozenset[str] = frozenset()

    def matches(self, line: Line) -> bool:
        if line.category in self.exclude_categories or line.sku in self.exclude_skus:
            return False
        if not self.categories and not self.skus:
            return True
        return line.category in self.categories or line.sku in self.skus


@dataclass(frozen=True)
class Range:
    """An inclusive numeric range; either end may be open."""

    minimum: Decimal | None = None
    maximum: Decimal | None = None

    def contains(self, value: Decimal) -> bool:
        return (self.minimum is None or value >= self.minimum) and (self.maximum is None or value <= self.maximum)


@dataclass(frozen=True)
class OrderTotalIn:
    range: Range

    def holds(self, context: Context) -> bool:
        return self.range.contains(context.event.order_total)


@dataclass(frozen=True)
class HasLine:
    lines: LineFilter

    def holds(self, context: Context) -> bool:
        return any(self.lines.matches(line) for line in context.event.lines)


@dataclass(frozen=True)
class TierIn:
    tier_codes: frozenset[str]

    def holds(self, context: Context) -> bool:
        return context.member.tier_code in self.tier_codes


@dataclass(frozen=True)
class PlanIn:
    """The member is on one of these paid membership plans, and its perks hold."""

    plan_codes: frozenset[str]

    def holds(self, context: Context) -> bool:
        return context.member.plan_code in self.plan_codes


@dataclass(frozen=True)
class HasPerk:
    """The member has one of these perks, from their tier or their plan."""

    perks: frozenset[str]

    def holds(self, context: Context) -> bool:
        return bool(self.perks & context.member.perks)


@dataclass(frozen=True)
class WeekdayIn:
    weekdays: frozenset[str]

    def holds(self, context: Context) -> bool:
        weekday = WEEKDAYS[local_date(context.event.occurred_at, context.zone).weekday()]
        return weekday in self.weekdays


@dataclass(frozen=True)
class DateBetween:
    """Local calendar dates in the program's zone, both ends inclusive."""

    first: date | None = None
    last: date | None = None

    def holds(self, context: Context) -> bool:
        day = local_date(context.event.occurred_at, context.zone)
        return (self.first is None or day >= self.first) and (self.last is None or day <= self.last)


@dataclass(frozen=True)
class AttributeTest:
    """``equals`` a value, is ``one_of`` several, or lies in a numeric ``range``."""

    name: str
    equals: object = None
    one_of: tuple[object, ...] | None = None
    range: Range | None = None

    def passes(self, attributes: Mapping[str, object]) -> bool:
        if self.name not in attributes:
            return False
        value = attributes[self.name]
        if self.range is not None:
            number = _number(value)
            return number is not None and self.range.contains(number)
        expected = self.one_of if self.one_of is not None else (self.equals,)
        return any(_same(value, candidate) for candidate in expected)


def _number(value: object) -> Decimal | None:
    """A numeric attribute as an exact decimal (floats through their shortest repr); booleans are not numbers."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal | str):
        return None
    try:
        number = Decimal(repr(value) if isinstance(value, float) else str(value))
    except ArithmeticError:
        return None
    return number if number.is_finite() else None


def _same(value: object, expected: object) -> bool:
    """Equality that does not mix kinds: ``true`` is not ``1``, and ``4.1`` equals ``"4.1"`` only as numbers."""
    if isinstance(value, bool) or isinstance(expected, bool):
        return value is expected
    if isinstance(value, str) and isinstance(expected, str):
        return value == expected
    left, right = _number(value), _number(expected)
    if isinstance(value, str) or isinstance(expected, str):
        return False
    return left is not None and left == right


@dataclass(frozen=True)
class MemberAttribute:
    test: AttributeTest

    def holds(self, context: Context) -> bool:
        return self.test.passes(context.member.attributes)


@dataclass(frozen=True)
class EventAttribute:
    test: AttributeTest

    def holds(self, context: Context) -> bool:
        return self.test.passes(context.event.attributes)


@dataclass(frozen=True)
class FiredFewerThan:
    """The rule has fired for this member fewer than ``times`` in the current ``period``."""

    rule_code: str
    times: int
    period: Period

    def holds(self, context: Context) -> bool:
        return context.member.firing_counts.get((self.rule_code, self.period), 0) < self.times


# --- actions ------------------------------------------------------------------------------------------------------


class Stage(StrEnum):
    """When an action acts in ``evaluate``: awards give the base points, multipliers scale them, grants give
    something other than points (a coupon, a badge, store credit) for a mechanic to apply."""

    AWARD = "award"
    MULTIPLY = "multiply"
    GRANT = "grant"


class Action(Protocol):
    """What a rule does when it applies. An open set: a mechanic adds its own action (its ``stage`` says how
    ``evaluate`` treats it) without a change here."""

    stage: ClassVar[Stage]

    def describe(self) -> str: ...


@dataclass(frozen=True)
class AwardFixed:
    stage: ClassVar[Stage] = Stage.AWARD
    points: Decimal

    def describe(self) -> str:
        return f"{self.points} points"

    def award(self, event: EventFacts) -> tuple[Decimal, list[Decimal]]:
        """The points and each line's share of them (none: a fixed award belongs to no line)."""
        return self.points, [Decimal(0)] * len(event.lines)


@dataclass(frozen=True)
class AwardPerCurrencyUnit:
    """``rate`` points per 1 unit of currency over the selected lines (and shipping, if asked)."""

    stage: ClassVar[Stage] = Stage.AWARD
    rate: Decimal
    lines: LineFilter = field(default_factory=LineFilter)
    include_shipping: bool = False

    def describe(self) -> str:
        return f"{self.rate} {'point' if self.rate == 1 else 'points'} per currency unit"

    def award(self, event: EventFacts) -> tuple[Decimal, list[Decimal]]:
        weights = [line.value * self.rate if self.lines.matches(line) else Decimal(0) for line in event.lines]
        total = sum(weights, Decimal(0))
        return total + (event.shipping * self.rate if self.include_shipping else Decimal(0)), weights


TIER = "tier"


@dataclass(frozen=True)
class Multiply:
    """Scale the event's awarded points by ``factor``, or by the member's tier multiplier when ``factor`` is "tier"."""

    stage: ClassVar[Stage] = Stage.MULTIPLY
    factor: Decimal | str

    def factor_for(self, member: MemberFacts) -> Decimal:
        return member.tier_multiplier if self.factor == TIER else Decimal(self.factor)

    def describe(self) -> str:
        return "tier multiplier" if self.factor == TIER else f"×{self.factor}"


class Awarding(Action, Protocol):
    def award(self, event: EventFacts) -> tuple[Decimal, list[Decimal]]: ...


class Multiplying(Action, Protocol):
    def factor_for(self, member: MemberFacts) -> Decimal: ...


@dataclass(frozen=True)
class Rule:
    code: str
    name: Text
    event_type: str
    action: Action
    conditions: tuple[Condition, ...] = ()
    priority: int = 0
    max_points: Decimal | None = None
    limit: FiredFewerThan | None = None
    stop: bool = False
    enabled: bool = True
    """A disabled rule stays in the program (its past awards keep their name) but applies to nothing."""

    def applies(self, context: Context) -> bool:
        if not self.enabled or self.event_type != context.event.type:
            return False
        if self.limit is not None and not self.limit.holds(context):
            return False
        return all(condition.holds(context) for condition in self.conditions)


# --- evaluation ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleAward:
    """What one rule gave: the exact amount, its whole-point share of the rounded total, and why."""

    rule_code: str
    rule_name: Text
    exact: Decimal
    points: int
    detail: str


@dataclass(frozen=True)
class Evaluation:
    awards: tuple[RuleAward, ...]
    line_weights: tuple[Decimal, ...]
    """Each line's share of the points before multipliers: how refunds of single lines are attributed."""
    grants: tuple[Action, ...] = ()
    """The grant actions of the rules that applied, for the mechanics that own them to apply."""

    @property
    def points(self) -> int:
        return sum(award.points for award in self.awards)


def evaluate(rules: Sequence[Rule], context: Context, rounding: Rounding = Rounding.DOWN) -> Evaluation:
    """Apply every matching rule to one event; write nothing.

    Award rules run first, highest priority first; a rule marked ``stop`` ends the award stage. Multiply rules then
    each add ``(factor - 1) ×`` the awarded points (so ×1.5 and ×2 together make ×2.5, not ×3). A rule's
    ``max_points`` caps what that rule gives in one event. The exact sum is rounded once.
    """
    ordered = sorted((rule for rule in rules if rule.applies(context)), key=lambda rule: (-rule.priority, rule.code))
    exact: list[tuple[Rule, Decimal, str]] = []
    line_weights = [Decimal(0)] * len(context.event.lines)
    for rule in ordered:
        if rule.action.stage is not Stage.AWARD:
            continue
        amount, weights = cast(Awarding, rule.action).award(context.event)
        amount = _capped(amount, rule.max_points)
        if amount > 0:
            exact.append((rule, amount, rule.action.describe()))
            line_weights = [total + weight for total, weight in zip(line_weights, weights, strict=True)]
        if rule.stop:
            break
    base = sum((amount for _, amount, _ in exact), Decimal(0))
    for rule in ordered:
        if rule.action.stage is Stage.MULTIPLY and base > 0:
            factor = cast(Multiplying, rule.action).factor_for(context.member)
            extra = _capped(base * (factor - 1), rule.max_points)
            if extra != 0:
                exact.append((rule, extra, f"×{factor} ({rule.action.describe()})"))
    shares = share_out(rounding.apply(sum((amount for _, amount, _ in exact), Decimal(0))), [a for _, a, _ in exact])
    awards = tuple(
        RuleAward(rule.code, rule.name, amount, points, detail)
        for (rule, amount, detail), points in zip(exact, shares, strict=True)
    )
    grants = tuple(rule.action for rule in ordered if rule.action.stage is Stage.GRANT)
    return Evaluation(awards=tuple(a for a in awards if a.points != 0), line_weights=tuple(line_weights), grants=grants)


def _capped(amount: Decimal, maximum: Decimal | None) -> Decimal:
    return amount if maximum is None else min(amount, maximum)


def share_out(total: int, exact: Sequence[Decimal]) -> list[int]:
    """Split the integer ``total`` over exact parts: each part's floor, then one more to the largest remainders.

    The shares always add up to ``total`` (which is the rounded sum of the parts), so per-rule effects reconcile with
    the single rounding of the order.
    """
    floors = [int(part.to_integral_value(rounding=ROUND_FLOOR)) for part in exact]
    missing = total - sum(floors)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    step = 1 if missing >= 0 else -1
    for index in (by_remainder if step > 0 else list(reversed(by_remainder)))[: abs(missing)]:
        floors[index] += step
    return floors
