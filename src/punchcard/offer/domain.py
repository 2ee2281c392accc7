"""Pure rules of member-only offers: who is in a segment, who an offer is for, and when it opens for whom.

A *segment* is a named set of members described by their behaviour and attributes ("ordered coffee beans 4+ times in
90 days", "no order in 60 days", "lifetime spend ≥ 300"); membership is decided when asked, from the member's
orders as they stand, so it is never stale. An *offer* opens a reward (or a coupon campaign: a reward of 0 points) or
a bonus-points rule to an *audience* (tiers, segments) inside a window, optionally to some tiers *early*: Gold sees
it 48 hours before everyone else. ``standing`` says, for one member at one moment, whether they can take an offer
and, if not, why (a stable code the API and the portal show).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from punchcard.i18n.text import NO_TEXT, Text
from punchcard.rules import domain as rules

# --- behaviour and segments ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PastOrder:
    """One of the member's orders as it stands now: refunds taken off (a fully refunded order is left out)."""

    occurred_at: datetime
    net_total: Decimal
    """The merchandise total less what was refunded, in the program's currency."""
    lines: tuple[rules.Line, ...]


@dataclass(frozen=True)
class Behaviour:
    """What segments may ask about a member: their orders (not fully refunded) and the rules' member attributes."""

    orders: tuple[PastOrder, ...]
    attributes: Mapping[str, object] = field(default_factory=dict)

    def orders_since(self, since: datetime | None) -> list[PastOrder]:
        return [order for order in self.orders if since is None or order.occurred_at >= since]


def _since(now: datetime, days: int | None) -> datetime | None:
    return now - timedelta(days=days) if days is not None else None


@dataclass(frozen=True)
class OrderedAtLeast:
    """At least ``times`` orders in the last ``within_days`` days (ever, if none), each with a line ``lines``
    selects (any line, if it selects all)."""

    times: int
    within_days: int | None = None
    lines: rules.LineFilter = field(default_factory=rules.LineFilter)

    def holds(self, behaviour: Behaviour, now: datetime) -> bool:
        found = behaviour.orders_since(_since(now, self.within_days))
        return sum(any(self.lines.matches(line) for line in order.lines) for order in found) >= self.times


@dataclass(frozen=True)
class NoOrderWithin:
    """No order in the last ``days`` days (a member who never ordered is in it too)."""

    days: int

    def holds(self, behaviour: Behaviour, now: datetime) -> bool:
        return not behaviour.orders_since(_since(now, self.days))


@dataclass(frozen=True)
class SpentAtLeast:
    """Net spend of at least ``amount`` in the last ``within_days`` days (lifetime, if none)."""

    amount: Decimal
    within_days: int | None = None

    def holds(self, behaviour: Behaviour, now: datetime) -> bool:
        found = behaviour.orders_since(_since(now, self.within_days))
        return sum((order.net_total for order in found), Decimal(0)) >= self.amount


@dataclass(frozen=True)
class HasAttribute:
    """A member attribute test, as earning rules write them (``language``, ``days_since_enrolment``, ...)."""

    test: rules.AttributeTest

    def holds(self, behaviour: Behaviour, now: datetime) -> bool:
        return self.test.passes(behaviour.attributes)


SegmentCondition = OrderedAtLeast | NoOrderWithin | SpentAtLeast | HasAttribute


@dataclass(frozen=True)
class Segment:
    code: str
    name: Text
    conditions: tuple[SegmentCondition, ...]
    """All must hold."""

    def contains(self, behaviour: Behaviour, now: datetime) -> bool:
        return all(condition.holds(behaviour, now) for condition in self.conditions)

    @property
    def lookback_days(self) -> int | None:
        """How far back its conditions read orders: ``None`` for the whole history."""
        days: list[int | None] = [
            condition.within_days if not isinstance(condition, NoOrderWithin) else condition.days
            for condition in self.conditions
            if not isinstance(condition, HasAttribute)
        ]
        return None if None in days else max((day for day in days if day is not None), default=0)


def segments_of(segments: Sequence[Segment], behaviour: Behaviour, now: datetime) -> frozenset[str]:
    return frozenset(segment.code for segment in segments if segment.contains(behaviour, now))


def lookback(segments: Sequence[Segment]) -> int | None:
    """How many days of orders deciding ``segments`` needs (``None``: all of them)."""
    days = [segment.lookback_days for segment in segments]
    return None if None in days else max((day for day in days if day is not None), default=0)


# --- offers -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Audience:
    """Who an offer is for: members of one of ``tiers`` (any tier, if none), of one of ``segments`` (any member, if
    none) and on one of the paid membership ``plans`` (any member, if none)."""

    tiers: frozenset[str] = frozenset()
    segments: frozenset[str] = frozenset()
    plans: frozenset[str] = frozenset()


@dataclass(frozen=True)
class EarlyAccess:
    tiers: frozenset[str]
    hours: int


class Target(StrEnum):
    REWARD = "reward"
    RULE = "rule"


@dataclass(frozen=True)
class Offer:
    code: str
    name: Text
    target: Target
    target_code: str
    """The reward's or the earning rule's code."""
    description: Text = NO_TEXT
    audience: Audience = field(default_factory=Audience)
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    early_access: EarlyAccess | None = None

    def opens_for(self, who: Who) -> datetime | None:
        """When the offer opens for ``who``: earlier for the early-access tiers, and for members whose plan gives
        early access (the earlier of the two)."""
        if self.starts_at is None:
            return None
        early = self.early_access
        tier_hours = early.hours if early is not None and who.tier_code in early.tiers else 0
        return self.starts_at - timedelta(hours=max(tier_hours, who.early_hours))


class Locked(StrEnum):
    """Why a member cannot take an offer now; also the API's ``locked_reason``."""

    TIER_REQUIRED = "tier_required"
    """The audience is some tiers, and the member is in another (shown, so members see what a tier brings)."""
    PLAN_REQUIRED = "plan_required"
    """The audience is members of some paid plans, and the member is on none of them (shown, as for tiers)."""
    SEGMENT_REQUIRED = "segment_required"
    """The member is outside the audience's segments (not listed to them: a segment is the marketer's, not theirs)."""
    NOT_STARTED = "not_started"
    """It opens later (``opens_at``); ``early_access_tiers`` may have it already."""
    ENDED = "ended"


@dataclass(frozen=True)
class Who:
    """The member an offer is judged for."""

    tier_code: str | None
    segments: frozenset[str]
    plan_code: str | None = None
    """The paid membership plan the member is on now, if any."""
    early_hours: int = 0
    """How much earlier offers open for them by their plan's early-access perk."""


@dataclass(frozen=True)
class Standing:
    offer: Offer
    locked: Locked | None
    opens_at: datetime | None
    """When it opens (opened) for this member."""

    @property
    def available(self) -> bool:
        return self.locked is None

    @property
    def listed(self) -> bool:
        """Whether the member is shown the offer at all: not when a segment keeps them out or it has ended."""
        return self.locked not in (Locked.SEGMENT_REQUIRED, Locked.ENDED)


def standing(offer: Offer, who: Who, now: datetime) -> Standing:
    """Whether ``who`` can take ``offer`` at ``now``, and if not the first reason: the audience before the clock, so
    a member outside it is never told to wait."""
    opens_at = offer.opens_for(who)
    audience = offer.audience
    if audience.segments and not audience.segments & who.segments:
        locked: Locked | None = Locked.SEGMENT_REQUIRED
    elif audience.tiers and who.tier_code not in audience.tiers:
        locked = Locked.TIER_REQUIRED
    elif audience.plans and who.plan_code not in audience.plans:
        locked = Locked.PLAN_REQUIRED
    elif offer.ends_at is not None and now >= offer.ends_at:
        locked = Locked.ENDED
    elif opens_at is not None and now < opens_at:
        locked = Locked.NOT_STARTED
    else:
        locked = None
    return Standing(offer, locked, opens_at)


def needs_segments(offers: Sequence[Offer]) -> bool:
    return any(offer.audience.segments for offer in offers)


def of_reward(offers: Sequence[Offer], reward_code: str) -> Offer | None:
    return next((o for o in offers if o.target is Target.REWARD and o.target_code == reward_code), None)


@dataclass(frozen=True)
class OfferOpen:
    """The earning-rule condition an offer on a bonus rule adds: the member is in its audience (by tier; a rule's
    audience has no segments, see docs/decisions.md) and the purchase falls inside the window as it stands for
    them."""

    offer: Offer

    def holds(self, context: rules.Context) -> bool:
        member = context.member
        who = Who(member.tier_code, frozenset(), member.plan_code, member.early_access_hours)
        return standing(self.offer, who, context.event.occurred_at).available


def gated(earning_rules: tuple[rules.Rule, ...], offers: Sequence[Offer]) -> tuple[rules.Rule, ...]:
    """The earning rules with each offered rule's audience and window added to its conditions."""
    by_rule = {offer.target_code: offer for offer in offers if offer.target is Target.RULE}
    return tuple(
        replace(rule, conditions=(*rule.conditions, OfferOpen(by_rule[rule.code]))) if rule.code in by_rule else rule
        for rule in earning_rules
    )
