"""The program file's ``segments`` and ``offers`` sections (docs/program-file.md), turned into ``offer.domain``."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import AwareDatetime, Field, model_validator

from punchcard.i18n.text import NO_TEXT, Text
from punchcard.offer.domain import (
    Audience,
    EarlyAccess,
    HasAttribute,
    NoOrderWithin,
    Offer,
    OrderedAtLeast,
    Segment,
    SegmentCondition,
    SpentAtLeast,
    Target,
)
from punchcard.program.file_types import (
    Code,
    LineSelector,
    LocalText,
    NonNegativeDecimal,
    OptionalLocalText,
    Strict,
    unique,
)
from punchcard.program.rule_schemas import AttributeCondition

Days = Annotated[int, Field(ge=1, le=3650)]


class OrdersSpec(Strict):
    at_least: Annotated[int, Field(ge=1, le=10_000)]
    within_days: Days | None = None
    """Counted over this many days back; none: the member's whole history."""
    has_lines: LineSelector = LineSelector()
    """Only orders with such a line count (every order, if it selects every line)."""


class SpendSpec(Strict):
    at_least: NonNegativeDecimal
    """Net of refunds, merchandise only, in the program's currency."""
    within_days: Days | None = None


class SegmentWhen(Strict):
    """All given conditions must hold (AND)."""

    orders: OrdersSpec | None = None
    no_order_within_days: Days | None = None
    spend: SpendSpec | None = None
    member: dict[str, AttributeCondition] = {}
    """The member attributes earning rules test (``language``, ``days_since_enrolment``, ``order_count``, ...)."""

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.orders is None and self.no_order_within_days is None and self.spend is None and not self.member:
            raise ValueError("give at least one of: orders, no_order_within_days, spend, member")
        return self

    def to_domain(self) -> tuple[SegmentCondition, ...]:
        found: list[SegmentCondition] = []
        if self.orders is not None:
            found.append(
                OrderedAtLeast(self.orders.at_least, self.orders.within_days, self.orders.has_lines.to_domain())
            )
        if self.no_order_within_days is not None:
            found.append(NoOrderWithin(self.no_order_within_days))
        if self.spend is not None:
            found.append(SpentAtLeast(self.spend.at_least, self.spend.within_days))
        found += [HasAttribute(test.to_domain(name)) for name, test in self.member.items()]
        return tuple(found)


class SegmentSpec(Strict):
    code: Code
    name: LocalText
    """For the console and the marketer; members are never shown which segments they are in."""
    when: SegmentWhen

    def to_domain(self, language: str) -> Segment:
        return Segment(self.code, Text.of(self.name, language), self.when.to_domain())


class AudienceSpec(Strict):
    tiers: list[Code] = []
    segments: list[Code] = []
    plans: list[Code] = []
    """Members on one of these ``membership_plans`` (current: trialing, active, or in a payment's grace)."""


class EarlyAccessSpec(Strict):
    tiers: list[Code] = Field(min_length=1)
    hours: Annotated[int, Field(ge=1, le=24 * 90)]


class OfferSpec(Strict):
    code: Code
    name: LocalText
    description: OptionalLocalText = ""
    reward: Code | None = None
    """A reward of ``rewards`` (a coupon campaign is a reward of 0 points with a per-member limit)."""
    rule: Code | None = None
    """An earning rule of ``earning_rules``: its bonus applies only to the audience, inside the window."""
    audience: AudienceSpec = AudienceSpec()
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    early_access: EarlyAccessSpec | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if (self.reward is None) == (self.rule is None):
            raise ValueError("give exactly one of: reward, rule")
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValueError("ends_at must be after starts_at")
        if self.early_access is not None and self.starts_at is None:
            raise ValueError("early_access needs starts_at: the hours are counted back from it")
        if self.rule is not None and self.audience.segments:
            raise ValueError(
                "a rule's audience is tiers only: segments restrict rewards (they are read from the member's "
                "orders, which the earning of every purchase would have to read too)"
            )
        return self

    def to_domain(self, language: str) -> Offer:
        target, code = (Target.REWARD, self.reward) if self.reward is not None else (Target.RULE, self.rule)
        assert code is not None
        early = self.early_access
        return Offer(
            code=self.code,
            name=Text.of(self.name, language),
            target=target,
            target_code=code,
            description=Text.of(self.description, language) if self.description else NO_TEXT,
            audience=Audience(
                frozenset(self.audience.tiers), frozenset(self.audience.segments), frozenset(self.audience.plans)
            ),
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            early_access=EarlyAccess(frozenset(early.tiers), early.hours) if early else None,
        )


def check_offers(
    offers: list[OfferSpec],
    *,
    tiers: list[str] | None,
    segments: list[str] | None,
    rewards: list[str] | None,
    rules: list[str] | None,
    plans: list[str] | None,
) -> None:
    """Every code an offer names must exist in the file (each list is ``None`` when its own section was invalid:
    that error is reported already); one offer per reward or rule, so a member is never told two things."""
    unique([offer.code for offer in offers], "offer")
    unique([f"{'reward' if o.reward else 'rule'} {o.reward or o.rule}" for o in offers], "offer target")
    for offer in offers:
        named = [
            ("tier", tiers, offer.audience.tiers + (offer.early_access.tiers if offer.early_access else [])),
            ("segment", segments, offer.audience.segments),
            ("membership plan", plans, offer.audience.plans),
            ("reward", rewards, [offer.reward] if offer.reward else []),
            ("earning rule", rules, [offer.rule] if offer.rule else []),
        ]
        for noun, known, used in named:
            unknown = sorted(set(used) - set(known)) if known is not None else []
            if unknown:
                raise ValueError(f"offer {offer.code!r}: unknown {noun}(s) {', '.join(unknown)}")
