"""Pure referral rules: what a program's referrals give and when, the fraud checks and what each decides, when a
referee's purchase qualifies, and whether the referrer's cap still allows a reward.

A referral moves through: ``pending`` (the friend joined with a code) → ``qualified`` (their qualifying event
happened; paid at once or when its points vest) → ``paid``; a fully refunded qualifying order before payment returns
it to ``pending``, after payment makes it ``reversed``. A fraud check that holds puts it in ``held`` until staff
approve or reject it; one that rejects makes it ``rejected`` at once. Every flag keeps its check and reason.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from punchcard.kit.events import JSON, DomainEvent


class Qualifier(StrEnum):
    FIRST_PURCHASE = "first_purchase"
    """The referee's first purchase whose merchandise total reaches ``min_order_total``."""
    ENROLMENT = "enrolment"


class Payout(StrEnum):
    AT_ONCE = "at_once"
    WHEN_POINTS_VEST = "when_points_vest"
    """When the qualifying order's points leave the return window (the program's ``points.pending_days``)."""


class Action(StrEnum):
    """What a fraud check does when it matches."""

    OFF = "off"
    HOLD = "hold"
    """Held for review in the console: staff approve or reject, with a reason."""
    REJECT = "reject"
    """Rejected at once, with the reason kept."""


class Check(StrEnum):
    SELF_REFERRAL = "self_referral"
    VELOCITY = "velocity"
    SIGNUPS_FROM_ONE_SOURCE = "signups_from_one_source"
    EXISTING_CUSTOMER = "existing_customer"
    REFERRERS_OWN_ORDER = "referrers_own_order"


REASON_MIN, REASON_MAX = 3, 400
"""How long a reviewer's reason for approving or rejecting a held referral is (the API's body, the console's form)."""


class Status(StrEnum):
    PENDING = "pending"
    HELD = "held"
    QUALIFIED = "qualified"
    PAID = "paid"
    REJECTED = "rejected"
    REVERSED = "reversed"


class Role(StrEnum):
    REFERRER = "referrer"
    REFEREE = "referee"


@dataclass(frozen=True)
class Gift:
    """What one side gets: points, a reward of the catalogue as a coupon, or both."""

    points: int = 0
    reward: str | None = None

    @property
    def is_empty(self) -> bool:
        return self.points <= 0 and self.reward is None


@dataclass(frozen=True)
class FraudChecks:
    """Each check and what it does when it matches; the limits of the velocity checks (``None``: no limit)."""

    self_referral: Action = Action.HOLD
    velocity: Action = Action.HOLD
    referrals_per_week: int | None = 10
    signups_from_one_source: Action = Action.HOLD
    signups_per_source_per_day: int | None = 3
    existing_customer: Action = Action.HOLD
    referrers_own_order: Action = Action.HOLD

    def action(self, check: Check) -> Action:
        return Action(getattr(self, check.value))


@dataclass(frozen=True)
class Referrals:
    """A program's referrals as its file defines them (``referrals``)."""

    referrer: Gift
    referee: Gift
    qualifier: Qualifier = Qualifier.FIRST_PURCHASE
    min_order_total: Decimal = Decimal(0)
    """In the program's currency: the merchandise total (shipping not counted) the qualifying purchase reaches."""
    qualify_within_days: int | None = 365
    """The referee has this many days from joining to qualify; ``None``: no limit."""
    payout: Payout = Payout.AT_ONCE
    per_month: int | None = None
    """Paid referrals per referrer per calendar month (the program's time zone); over it the referrer gets nothing
    for the referral, the friend still gets theirs."""
    lifetime: int | None = None
    reverse_on_refund: bool = True
    """A fully refunded qualifying order takes back both sides' rewards (points as the return policy allows; unused
    coupons are revoked)."""
    checks: FraudChecks = field(default_factory=FraudChecks)
    share_url: str | None = None
    """The link members share, with ``{code}``; none: the portal's invitation page."""
    enabled: bool = True

    def gift(self, role: Role) -> Gift:
        return self.referrer if role is Role.REFERRER else self.referee

    def rewards(self) -> list[str]:
        return [gift.reward for gift in (self.referrer, self.referee) if gift.reward is not None]


# --- qualifying, paying, caps -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Purchase:
    """A referee's purchase as the referral sees it."""

    occurred_at: datetime
    total: Decimal
    signals: Mapping[str, str]


def may_qualify(rule: Referrals, referred_at: datetime, at: datetime) -> bool:
    """Whether a purchase at ``at`` is still inside the time the friend has to qualify."""
    return rule.qualify_within_days is None or at <= referred_at + timedelta(days=rule.qualify_within_days)


def qualifies(rule: Referrals, referred_at: datetime, purchase: Purchase) -> bool:
    """Whether a pending referral's purchase qualifies it (``first_purchase`` referrals)."""
    return (
        rule.qualifier is Qualifier.FIRST_PURCHASE
        and purchase.total >= rule.min_order_total
        and may_qualify(rule, referred_at, purchase.occurred_at)
    )


def payable_at(rule: Referrals, qualified_at: datetime, points_vest_at: datetime | None) -> datetime:
    """When a qualified referral pays: at once, or when the qualifying order's points vest (at once if they were
    never pending)."""
    if rule.payout is Payout.WHEN_POINTS_VEST and points_vest_at is not None:
        return points_vest_at
    return qualified_at


def referrer_may_earn(rule: Referrals, paid_this_month: int, paid_ever: int) -> bool:
    """Whether the referrer's caps leave room for one more rewarded referral."""
    within_month = rule.per_month is None or paid_this_month < rule.per_month
    return within_month and (rule.lifetime is None or paid_ever < rule.lifetime)


def share_url(rule: Referrals, code: str, portal_invitation: str) -> str:
    return rule.share_url.replace("{code}", code) if rule.share_url else portal_invitation


# --- domain events ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ReferralMade(DomainEvent):
    """A friend joined with a member's code (``member_id`` is the friend). ``status``: ``pending``, ``held`` for
    review, or ``rejected`` by a check (then ``flags`` say why); ``qualified`` when joining qualifies."""

    type: ClassVar[str] = "referral.made"

    referral_id: int
    referrer_id: int
    status: str
    flags: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True)
class ReferralQualified(DomainEvent):
    """The friend's qualifying event happened (``member_id`` is the friend): the referral pays at ``payable_at``,
    unless a check ``held`` it for review."""

    type: ClassVar[str] = "referral.qualified"

    referral_id: int
    referrer_id: int
    order_id: str | None
    payable_at: datetime
    held: bool = False
    flags: tuple[dict[str, str], ...] = ()


@dataclass(frozen=True, kw_only=True)
class ReferralRewarded(DomainEvent):
    """One side of a referral got its reward (``member_id`` is who got it). ``capped``: the referrer's caps left
    nothing for this referral (then ``points`` is 0 and there is no coupon)."""

    type: ClassVar[str] = "referral.rewarded"

    referral_id: int
    role: str
    points: int
    coupon: str | None = None
    capped: bool = False

    def effects(self) -> list[dict[str, JSON]]:
        effect: dict[str, JSON] = {
            "type": "referral_rewarded",
            "referral_id": self.referral_id,
            "role": self.role,
            "points": self.points,
        }
        if self.coupon is not None:
            effect["coupon"] = self.coupon
        return [effect]


@dataclass(frozen=True, kw_only=True)
class ReferralReversed(DomainEvent):
    """The qualifying order was fully refunded after the referral paid (``member_id`` is the friend): both sides'
    rewards are taken back (the referrer's by the referral's consumer, just after)."""

    type: ClassVar[str] = "referral.reversed"

    referral_id: int
    referrer_id: int
    order_id: str


@dataclass(frozen=True, kw_only=True)
class ReferralReviewed(DomainEvent):
    """Staff approved or rejected a held referral (``member_id`` is the friend), with their reason."""

    type: ClassVar[str] = "referral.reviewed"

    referral_id: int
    referrer_id: int
    decision: str
    reason: str
    staff: str
