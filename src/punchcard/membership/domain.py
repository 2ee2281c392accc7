"""Paid memberships, pure: the plans a program sells and their perks, a member's membership, the instructions that
move it and the events it makes. How each instruction and time move it is ``membership.lifecycle``.

A membership is paid for through the shop's own payment provider; Punchcard never sees card data. It hears of
payments as instructions (``Instruction``: start, renew, payment failed, cancel) from the API, from ``POST
/api/v1/events`` or from the Stripe adapter. Money is ``Decimal`` in the program's currency or integer minor units.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import ClassVar
from zoneinfo import ZoneInfo

from punchcard.coupon.domain import Benefit, BenefitKind, Order, check
from punchcard.i18n.text import Text
from punchcard.kit.events import JSON, DomainEvent
from punchcard.kit.money import exponent, format_amount, from_minor
from punchcard.reward.domain import Reward
from punchcard.rules.domain import LineFilter

MEMBERSHIP_STARTED = "membership_started"
MEMBERSHIP_RENEWED = "membership_renewed"
MEMBERSHIP_PAYMENT_FAILED = "membership_payment_failed"
MEMBERSHIP_CANCELLED = "membership_cancelled"
EVENT_TYPES = (MEMBERSHIP_STARTED, MEMBERSHIP_RENEWED, MEMBERSHIP_PAYMENT_FAILED, MEMBERSHIP_CANCELLED)
"""The event types of ``POST /api/v1/events`` that move a membership (``Instruction.of``)."""


class BillingPeriod(StrEnum):
    MONTH = "month"
    YEAR = "year"

    @property
    def months(self) -> int:
        return 1 if self is BillingPeriod.MONTH else 12


class Status(StrEnum):
    TRIALING = "trialing"
    ACTIVE = "active"
    PAST_DUE = "past_due"
    """A payment failed, or the period ended without one: the perks hold until the grace ends."""
    LAPSED = "lapsed"
    """Not paid within the grace: over, and the member may start again."""
    CANCELLED = "cancelled"

    @property
    def is_current(self) -> bool:
        """Whether the member has the plan's perks."""
        return self in (Status.TRIALING, Status.ACTIVE, Status.PAST_DUE)


class CancelRefund(StrEnum):
    """What a member cancelling at once gets back (the shop's payment provider pays it; we say how much)."""

    NONE = "none"
    PRO_RATA = "pro_rata"
    """The unused share of the period's payment, by the second, rounded down to the minor unit."""


@dataclass(frozen=True)
class PercentOff:
    """A member price: ``percent`` off the lines of these categories."""

    percent: Decimal
    categories: frozenset[str]


@dataclass(frozen=True)
class Perks:
    """What a current membership gives. ``custom`` are the shop's own perk codes (a lounge, a free tasting), which
    rules may test like the others (``has_perk``)."""

    earn_multiplier: Decimal = Decimal(1)
    """On purchases, on top of the tier's: the extra points are ``(multiplier - 1) ×`` the base, as every multiplier
    adds (``rules.domain.evaluate``)."""
    free_shipping: bool = False
    percent_off: PercentOff | None = None
    early_access_hours: int = 0
    """How much earlier than others the member may take member-only offers (``offer.domain``)."""
    monthly_reward: str | None = None
    """A reward given as a coupon in each month of the membership."""
    custom: tuple[str, ...] = ()

    def codes(self) -> frozenset[str]:
        """The perk codes rules test (``has_perk``): those the member's view lists."""
        return frozenset(str(perk["code"]) for perk in self.described())

    def described(self) -> list[dict[str, JSON]]:
        """The perks as the API shows them, one object each, in a stable order."""
        found: list[dict[str, JSON]] = []
        if self.earn_multiplier != 1:
            found.append({"code": "earn_multiplier", "multiplier": str(self.earn_multiplier)})
        if self.free_shipping:
            found.append({"code": "free_shipping"})
        if self.percent_off is not None:
            categories: list[JSON] = sorted(self.percent_off.categories)
            found.append({"code": "percent_off", "percent": str(self.percent_off.percent), "categories": categories})
        if self.early_access_hours:
            found.append({"code": "early_access", "hours": self.early_access_hours})
        if self.monthly_reward is not None:
            found.append({"code": "monthly_reward", "reward": self.monthly_reward})
        found += [{"code": code} for code in self.custom]
        return found


def checkout(perks: Perks, order: Order, currency: str) -> list[tuple[str, Decimal]]:
    """What the plan's money perks take off ``order`` at the checkout, perk by perk: free shipping, then the member
    price on its categories, each as a coupon of that benefit would (``coupon.domain.check``), rounded down to the
    currency's minor unit; a perk that gives nothing on this order is left out."""
    benefits = []
    if perks.free_shipping:
        benefits.append(("free_shipping", Benefit(BenefitKind.FREE_SHIPPING)))
    if perks.percent_off is not None:
        lines = LineFilter(categories=perks.percent_off.categories)
        benefits.append(
            ("percent_off", Benefit(BenefitKind.PERCENT_OFF, percent=perks.percent_off.percent, lines=lines))
        )
    quantum = Decimal(1).scaleb(-exponent(currency))
    found = []
    for perk, benefit in benefits:
        verdict = check(benefit, order, currency=currency, expires_at=_NEVER, is_used_by_other_order=False, now=_EVER)
        discount = verdict.discount.quantize(quantum, rounding=ROUND_FLOOR) if verdict.is_valid else Decimal(0)
        if discount > 0:
            found.append((perk, discount))
    return found


_EVER, _NEVER = datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC)
"""A perk does not expire as a coupon does: it holds while the membership is current, which the caller checked."""


@dataclass(frozen=True)
class Plan:
    code: str
    name: Text
    prices: Mapping[BillingPeriod, Decimal]
    """The price per period offered, in the program's currency (a plan may sell only monthly, or both)."""
    perks: Perks = field(default_factory=Perks)
    description: Text = field(default_factory=lambda: Text(""))
    trial_days: int = 0
    """A free first period of this many days, once per member and plan."""
    grace_days: int = 0
    """How long a failed or missing payment keeps the membership (as ``past_due``) before it lapses."""
    cancel_refund: CancelRefund = CancelRefund.PRO_RATA
    enabled: bool = True
    """A withdrawn plan sells no new memberships; current ones renew until they end."""

    def monthly_minor(self, period: BillingPeriod, exponent: int) -> Decimal:
        """What a membership on ``period`` brings in a month, in minor units (a yearly price spread over 12):
        monthly recurring revenue."""
        return self.prices[period].scaleb(exponent) / period.months


@dataclass(frozen=True)
class Membership:
    """A member's membership as last written; ``as_of`` tells what it is at a later moment."""

    plan: str
    period: BillingPeriod
    status: Status
    started_at: datetime
    """When this membership began (a rejoin begins a new one)."""
    current_period_start: datetime
    current_period_end: datetime
    paid_minor: int = 0
    """What the member paid for the current period (0 in a trial): the base of a pro-rata refund."""
    trial: bool = False
    """The current period is the plan's free trial."""
    payment_ref: str | None = None
    """The provider's reference of the last payment (an invoice id): the same payment told twice renews once."""
    subscription_ref: str | None = None
    cancel_at_period_end: bool = False
    grace_until: datetime | None = None
    failed_at: datetime | None = None
    """When a payment for it last failed, until one succeeds (then a renewal is a recovery)."""
    ended_at: datetime | None = None
    trialled: frozenset[str] = frozenset()
    """The plans whose trial the member has had (a trial is once per member and plan, across rejoins)."""
    gifted_until: datetime | None = None
    """The monthly reward is given for every month that began before this instant."""


@dataclass(frozen=True)
class Terms:
    """What of a program its memberships need: the plans sold, where its calendar is, its currency, and the rewards
    a plan may give monthly (``program.domain.Program.membership_terms``)."""

    plans: Mapping[str, Plan]
    zone: ZoneInfo
    currency: str
    rewards: Mapping[str, Reward]


class Refusal(StrEnum):
    """Why an instruction is refused; each is an error code (``membership.errors``)."""

    PLAN_UNKNOWN = "membership_plan_unknown"
    PERIOD_NOT_OFFERED = "membership_period_not_offered"
    ALREADY_MEMBER = "membership_already_current"
    NOT_MEMBER = "membership_not_current"


class MembershipRefused(Exception):
    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.message = message


# --- instructions -------------------------------------------------------------------------------------------------


class Kind(StrEnum):
    START = "start"
    RENEW = "renew"
    FAIL = "fail"
    CANCEL = "cancel"


_KIND_OF_TYPE = {
    MEMBERSHIP_STARTED: Kind.START,
    MEMBERSHIP_RENEWED: Kind.RENEW,
    MEMBERSHIP_PAYMENT_FAILED: Kind.FAIL,
    MEMBERSHIP_CANCELLED: Kind.CANCEL,
}

ATTRIBUTES = frozenset({"plan", "period", "payment_ref", "subscription_ref", "paid_until", "at_period_end"})
"""The attributes a membership event may carry (``docs/events.md``)."""


@dataclass(frozen=True)
class Instruction:
    """One thing the shop (or its payment provider) says happened to a member's membership."""

    kind: Kind
    at: datetime
    plan: str | None = None
    period: BillingPeriod | None = None
    payment_ref: str | None = None
    subscription_ref: str | None = None
    paid_minor: int | None = None
    paid_until: datetime | None = None
    """The end of the period paid for, when the provider says it (a Stripe invoice line's period)."""
    at_period_end: bool = True
    """For a cancellation: at the end of the period paid for (the default), or at once."""

    @classmethod
    def of(cls, event_type: str, at: datetime, attributes: Mapping[str, object], paid_minor: int | None) -> Instruction:
        """The instruction a membership event carries in its ``attributes``; ``ValueError`` names what is wrong."""
        kind = _KIND_OF_TYPE.get(event_type)
        if kind is None:
            raise ValueError(f"{event_type!r} is not a membership event")
        unknown = sorted(set(attributes) - ATTRIBUTES)
        if unknown:
            raise ValueError(f"a {event_type} event has no attribute {', '.join(unknown)}")
        plan, period_text, payment_ref, subscription_ref = (
            _text(attributes, name) for name in ("plan", "period", "payment_ref", "subscription_ref")
        )
        period = _period(period_text)
        if kind is Kind.START and (plan is None or payment_ref is None):
            raise ValueError("a membership_started event needs the attributes plan and payment_ref")
        if kind is Kind.RENEW and payment_ref is None:
            raise ValueError("a membership_renewed event needs the attribute payment_ref")
        at_period_end = attributes.get("at_period_end", True)
        if not isinstance(at_period_end, bool):
            raise ValueError("at_period_end must be true or false")
        return cls(
            kind,
            at,
            plan,
            period,
            payment_ref,
            subscription_ref,
            paid_minor,
            _moment(attributes.get("paid_until")),
            at_period_end,
        )


def _text(attributes: Mapping[str, object], name: str) -> str | None:
    value = attributes.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value or len(value) > 200:
        raise ValueError(f"{name} must be a non-empty string of at most 200 characters")
    return value


def _period(value: str | None) -> BillingPeriod | None:
    if value is None:
        return None
    try:
        return BillingPeriod(value)
    except ValueError:
        raise ValueError("period must be month or year") from None


def _moment(value: object) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError("paid_until must be a date-time with a time zone, as a string")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError("paid_until must be a date-time with a time zone (ISO 8601)") from None
    if moment.tzinfo is None:
        raise ValueError("paid_until must carry a time zone")
    return moment


# --- events -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class MembershipEvent(DomainEvent):
    """A membership changed; every such event carries where it stands after the change."""

    plan: str
    period: str
    status: str
    current_period_end: datetime

    def effects(self) -> list[dict[str, JSON]]:
        return [
            {
                "type": self.type.replace(".", "_"),
                "plan": self.plan,
                "status": self.status,
                "current_period_end": self.current_period_end.isoformat(),
            }
        ]


@dataclass(frozen=True, kw_only=True)
class MembershipStarted(MembershipEvent):
    type: ClassVar[str] = "membership.started"
    trial: bool
    paid_minor: int
    currency: str


@dataclass(frozen=True, kw_only=True)
class MembershipRenewed(MembershipEvent):
    """Paid for another period; ``converted``: the first payment after a trial, ``recovered``: after a failure."""

    type: ClassVar[str] = "membership.renewed"
    paid_minor: int
    currency: str
    converted: bool
    recovered: bool


@dataclass(frozen=True, kw_only=True)
class MembershipPaymentFailed(MembershipEvent):
    type: ClassVar[str] = "membership.payment_failed"
    grace_until: datetime


@dataclass(frozen=True, kw_only=True)
class MembershipCancelled(MembershipEvent):
    """Cancelled by the member or the shop: ``at_period_end`` (the perks last to ``current_period_end``) or at once
    (``refund_minor``: what the shop should pay back, by the plan's ``cancel_refund``)."""

    type: ClassVar[str] = "membership.cancelled"
    at_period_end: bool
    refund_minor: int
    currency: str

    def effects(self) -> list[dict[str, JSON]]:
        refund = format_amount(from_minor(self.refund_minor, self.currency), self.currency)
        [effect] = super().effects()
        return [effect | {"at_period_end": self.at_period_end, "refund": {"amount": refund, "currency": self.currency}}]


@dataclass(frozen=True, kw_only=True)
class MembershipEnded(MembershipEvent):
    """Over by time: a cancelled membership reached its period's end (``cancelled``), or the grace ran out without a
    payment (``lapsed``). ``was_trial``: it ended in its trial, unconverted."""

    type: ClassVar[str] = "membership.ended"
    was_trial: bool
