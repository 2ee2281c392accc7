"""Pure tier rules: the window a metric is counted over, the tier a value qualifies for, and the review decision."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar
from zoneinfo import ZoneInfo

from punchcard.i18n.text import NO_TEXT, Text
from punchcard.kit.calendar import Period, add_months, local_date, period_start, start_of_local_day
from punchcard.kit.events import JSON, DomainEvent


class Metric(StrEnum):
    POINTS = "points"  # points earned by purchases
    AMOUNT_SPENT = "amount_spent"  # merchandise value, in minor currency units
    ORDERS = "orders"


class WindowKind(StrEnum):
    ROLLING_MONTHS = "rolling_months"
    CALENDAR_YEAR = "calendar_year"
    LIFETIME = "lifetime"


@dataclass(frozen=True)
class Window:
    kind: WindowKind
    months: int = 12

    def start(self, now: datetime, zone: ZoneInfo) -> datetime | None:
        """First instant (UTC) whose credits still count at ``now``; ``None`` counts everything."""
        if self.kind is WindowKind.LIFETIME:
            return None
        if self.kind is WindowKind.CALENDAR_YEAR:
            return period_start(now, Period.YEAR, zone)
        day = local_date(now, zone)
        return start_of_local_day(add_months(day, -self.months) + timedelta(days=1), zone)


@dataclass(frozen=True)
class Perk:
    """Something a tier gives besides its multiplier (free shipping, early access): the shop delivers it; members
    read its ``name``, and a perk without one is for the shop's systems only (``tier.perks`` in the API)."""

    code: str
    name: Text = NO_TEXT


@dataclass(frozen=True)
class Tier:
    code: str
    name: Text
    threshold: int
    multiplier: Decimal = Decimal(1)
    perks: tuple[Perk, ...] = ()


@dataclass(frozen=True)
class TierPolicy:
    """Tiers in ascending order of threshold; the first one has threshold 0 so every member has a tier."""

    metric: Metric
    window: Window
    tiers: tuple[Tier, ...]
    grace_days: int = 0

    def by_code(self, code: str | None) -> Tier:
        """The tier with ``code``; a code the program no longer has falls back to the entry tier."""
        return next((tier for tier in self.tiers if tier.code == code), self.tiers[0])

    def rank(self, code: str | None) -> int:
        """The tier's place from the entry tier (0), by code: ``tuple.index`` compared whole tiers field by field
        (a fifth of the nightly review's Python samples in a profile, though not of its wall time)."""
        return next((place for place, tier in enumerate(self.tiers) if tier.code == code), 0)

    def qualifying(self, value: int) -> Tier:
        return [tier for tier in self.tiers if value >= tier.threshold][-1]

    def next_tier(self, code: str | None) -> Tier | None:
        rank = self.rank(code)
        return self.tiers[rank + 1] if rank + 1 < len(self.tiers) else None

    def can_rise(self, code: str | None, grace_until: datetime | None) -> bool:
        """Whether earning can change the tier: not in the top tier out of grace (nothing to rise to or to earn
        back), so the caller need not read the qualifying value at all."""
        return grace_until is not None or self.rank(code) < len(self.tiers) - 1


class ReviewOutcome(StrEnum):
    KEEP = "keep"
    UPGRADE = "upgrade"
    START_GRACE = "start_grace"
    END_GRACE = "end_grace"  # the member qualifies again while in grace
    DOWNGRADE = "downgrade"


@dataclass(frozen=True)
class Review:
    outcome: ReviewOutcome
    tier: Tier
    grace_until: datetime | None


def review(
    policy: TierPolicy, current_code: str | None, value: int, grace_until: datetime | None, now: datetime
) -> Review:
    """Decide a member's tier at a scheduled review.

    Upgrades happen at once. A member below their tier's threshold gets ``grace_days`` to earn it back; a downgrade
    goes to the tier the value qualifies for, only once the grace has run out.
    """
    current, qualified = policy.by_code(current_code), policy.qualifying(value)
    if policy.rank(qualified.code) > policy.rank(current.code):
        return Review(ReviewOutcome.UPGRADE, qualified, None)
    if qualified == current:
        outcome = ReviewOutcome.END_GRACE if grace_until is not None else ReviewOutcome.KEEP
        return Review(outcome, current, None)
    if grace_until is None:
        if policy.grace_days > 0:
            return Review(ReviewOutcome.START_GRACE, current, now + timedelta(days=policy.grace_days))
        return Review(ReviewOutcome.DOWNGRADE, qualified, None)
    if now >= grace_until:
        return Review(ReviewOutcome.DOWNGRADE, qualified, None)
    return Review(ReviewOutcome.KEEP, current, grace_until)


@dataclass(frozen=True)
class Progress:
    """What the API tells a member about their tier."""

    tier: Tier
    value: int
    next_tier: Tier | None
    needed_for_next: int | None
    needed_to_keep: int
    grace_until: datetime | None


def progress(policy: TierPolicy, current_code: str | None, value: int, grace_until: datetime | None) -> Progress:
    tier = policy.by_code(current_code)
    following = policy.next_tier(tier.code)
    return Progress(
        tier=tier,
        value=value,
        next_tier=following,
        needed_for_next=None if following is None else max(following.threshold - value, 0),
        needed_to_keep=max(tier.threshold - value, 0),
        grace_until=grace_until,
    )


# --- domain events ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class TierChanged(DomainEvent):
    """A member moved to another tier; ``reason`` says why (``upgrade`` at once, ``refund``, or the review's)."""

    from_tier: str | None
    to_tier: str
    reason: str

    def effects(self) -> list[dict[str, JSON]]:
        return [{"type": "tier_changed", "from": self.from_tier, "to": self.to_tier, "reason": self.reason}]


@dataclass(frozen=True, kw_only=True)
class TierUpgraded(TierChanged):
    type: ClassVar[str] = "tier.upgraded"


@dataclass(frozen=True, kw_only=True)
class TierDowngraded(TierChanged):
    type: ClassVar[str] = "tier.downgraded"


@dataclass(frozen=True, kw_only=True)
class TierAtRisk(DomainEvent):
    """The review found the member below their tier's threshold and started their grace: they drop to ``drops_to``
    at the first review after ``grace_until`` unless they reach the threshold by then, ``needed`` more in the
    tier's ``metric`` (points and orders as counts, an amount spent as a decimal string in the program's currency)."""

    type: ClassVar[str] = "tier.at_risk"

    tier: str
    drops_to: str
    metric: str
    needed: int | str
    grace_until: datetime


def tier_changed(
    policy: TierPolicy,
    *,
    program_id: int,
    member_id: int,
    from_tier: str | None,
    to_tier: str,
    reason: str,
    at: datetime,
) -> TierChanged:
    """The event for a move from ``from_tier`` to ``to_tier``: an upgrade when it goes up the policy's order."""
    kind = TierUpgraded if from_tier is None or policy.rank(to_tier) > policy.rank(from_tier) else TierDowngraded
    return kind(
        program_id=program_id, member_id=member_id, occurred_at=at, from_tier=from_tier, to_tier=to_tier, reason=reason
    )


# --- earning towards a tier (the tier mechanic's decision) --------------------------------------------------------


def credits_for(metric: Metric, *, points: int, order_total_minor: int) -> int:
    """The tier credits one purchase earns: its points, its amount in minor units, or one order."""
    if metric is Metric.POINTS:
        return points
    if metric is Metric.AMOUNT_SPENT:
        return order_total_minor
    return 1


@dataclass(frozen=True)
class AfterEarning:
    """What earning does to a member's tier: move up to ``upgrade_to`` at once, or end a grace period they earned
    their tier back in."""

    upgrade_to: str | None = None
    ends_grace: bool = False


def after_earning(
    policy: TierPolicy, current_code: str | None, grace_until: datetime | None, value: int
) -> AfterEarning:
    """Upgrade at once when ``value`` (the credits in the window, this purchase's included) reaches a higher tier;
    never downgrade here (that is the review's, with grace)."""
    qualified = policy.qualifying(value)
    if policy.rank(qualified.code) > policy.rank(current_code):
        return AfterEarning(upgrade_to=qualified.code)
    if qualified.code == policy.by_code(current_code).code and grace_until is not None:
        return AfterEarning(ends_grace=True)
    return AfterEarning()


def after_refund(policy: TierPolicy, current_code: str | None, value: int, held_before: str | None) -> str | None:
    """The tier to fall back to at once when a refund undid the upgrade its order bought: the better of what the
    member now qualifies for and the tier they held before the order; ``None`` when they keep their tier (an
    earlier-earned tier waits for the review)."""
    qualified = policy.qualifying(value)
    if policy.rank(qualified.code) >= policy.rank(current_code):
        return None
    floor = policy.by_code(held_before)
    target = qualified if policy.rank(qualified.code) >= policy.rank(floor.code) else floor
    return target.code if policy.rank(target.code) < policy.rank(current_code) else None
