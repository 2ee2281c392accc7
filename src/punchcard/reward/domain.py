"""Pure catalogue rules: whether a member may redeem a reward now, and why not."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from punchcard.coupon.domain import Benefit
from punchcard.i18n.text import NO_TEXT, Text
from punchcard.kit.events import JSON, DomainEvent


@dataclass(frozen=True)
class Reward:
    code: str
    name: Text
    points_cost: int
    benefit: Benefit
    coupon_valid_days: int = 30
    description: Text = NO_TEXT
    min_tier: str | None = None
    limit_per_member: int | None = None
    available_from: datetime | None = None
    available_until: datetime | None = None
    enabled: bool = True
    """A withdrawn reward (``enabled: false``) is out of the members' catalogue and cannot be redeemed; its coupons
    already issued stay valid and its redemptions keep its name."""


class Obstacle(StrEnum):
    """Why a reward cannot be redeemed, in the order the checks run; each is also the API error code."""

    REWARD_NOT_AVAILABLE = "reward_not_available"
    OFFER_LOCKED = "offer_locked"
    TIER_TOO_LOW = "tier_too_low"
    REWARD_LIMIT_REACHED = "reward_limit_reached"
    INSUFFICIENT_POINTS = "insufficient_points"


@dataclass(frozen=True)
class Lock:
    """An offer holding a reward back from a member now: ``offer.domain`` decides it and why (``reason``, its
    ``Locked`` code), the reward obeys."""

    reason: str
    opens_at: datetime | None = None


def obstacle(
    reward: Reward,
    *,
    now: datetime,
    tier_rank: int,
    min_tier_rank: int,
    redeemed_count: int,
    available_points: int,
    lock: Lock | None = None,
) -> Obstacle | None:
    """The first reason the member cannot redeem ``reward`` at ``now``, or ``None`` if they can."""
    if (
        not reward.enabled
        or (reward.available_from is not None and now < reward.available_from)
        or (reward.available_until is not None and now >= reward.available_until)
    ):
        return Obstacle.REWARD_NOT_AVAILABLE
    if lock is not None:
        return Obstacle.OFFER_LOCKED
    if tier_rank < min_tier_rank:
        return Obstacle.TIER_TOO_LOW
    if reward.limit_per_member is not None and redeemed_count >= reward.limit_per_member:
        return Obstacle.REWARD_LIMIT_REACHED
    if available_points < reward.points_cost:
        return Obstacle.INSUFFICIENT_POINTS
    return None


@dataclass(frozen=True, kw_only=True)
class RewardRedeemed(DomainEvent):
    """A member spent points on a reward and got its coupon."""

    type: ClassVar[str] = "reward.redeemed"

    reward: str
    reward_name: str
    points_spent: int
    redemption_id: int
    coupon_code: str
    coupon_expires_at: datetime


@dataclass(frozen=True, kw_only=True)
class RewardGifted(DomainEvent):
    """A mechanic gave the member a reward's coupon without points (a referral, a challenge, a birthday)."""

    type: ClassVar[str] = "reward.gifted"

    reward: str
    reward_name: str
    cause: str
    """The mechanic that gave it (``referral``, ``challenge``, ``birthday``)."""
    redemption_id: int
    coupon_code: str
    coupon_expires_at: datetime

    def effects(self) -> list[dict[str, JSON]]:
        return [{"type": "reward_gifted", "reward": self.reward, "cause": self.cause, "coupon": self.coupon_code}]


def newly_affordable(
    rewards: Sequence[Reward], before: int, after: int, *, may_redeem: Callable[[Reward], bool]
) -> list[Reward]:
    """The rewards a balance that went from ``before`` to ``after`` points now reaches and did not before, among
    those the member ``may_redeem`` (offered, their tier high enough, available now)."""
    return [reward for reward in rewards if before < reward.points_cost <= after and may_redeem(reward)]


@dataclass(frozen=True, kw_only=True)
class RewardAffordable(DomainEvent):
    """The member's available points reached a reward's cost by this event (points earned, available at once)."""

    type: ClassVar[str] = "reward.affordable"

    reward: str
    reward_name: str
    cost: int
    balance: int
