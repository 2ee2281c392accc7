"""Pure coupon rules: what a coupon gives and whether it applies to an order."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import ClassVar

from punchcard.i18n.text import Text
from punchcard.kit.events import DomainEvent
from punchcard.rules.domain import Line, LineFilter


class BenefitKind(StrEnum):
    AMOUNT_OFF = "amount_off"
    PERCENT_OFF = "percent_off"
    FREE_SHIPPING = "free_shipping"
    FREE_PRODUCT = "free_product"


@dataclass(frozen=True)
class Benefit:
    """What a coupon gives and on which orders; copied onto each coupon so later program edits don't change it."""

    kind: BenefitKind
    amount: Decimal | None = None
    percent: Decimal | None = None
    sku: str | None = None
    product: Text | None = None
    """The free product's name, for members (``sku`` is what the checkout matches)."""
    min_order_total: Decimal = Decimal(0)
    lines: LineFilter = field(default_factory=LineFilter)


@dataclass(frozen=True)
class Order:
    total: Decimal
    currency: str
    lines: tuple[Line, ...] = ()
    shipping: Decimal = Decimal(0)


class Refusal(StrEnum):
    """Why a coupon does not apply, in the order the checks run."""

    COUPON_REVOKED = "coupon_revoked"
    COUPON_EXPIRED = "coupon_expired"
    COUPON_ALREADY_REDEEMED = "coupon_already_redeemed"
    CURRENCY_MISMATCH = "currency_mismatch"
    ORDER_TOTAL_TOO_LOW = "order_total_too_low"
    NO_ELIGIBLE_LINES = "no_eligible_lines"
    PRODUCT_NOT_IN_ORDER = "product_not_in_order"


@dataclass(frozen=True)
class Verdict:
    refusal: Refusal | None
    discount: Decimal = Decimal(0)

    @property
    def is_valid(self) -> bool:
        return self.refusal is None


def check(
    benefit: Benefit,
    order: Order,
    *,
    currency: str,
    expires_at: datetime,
    is_used_by_other_order: bool,
    now: datetime,
    is_revoked: bool = False,
) -> Verdict:
    """Whether the coupon applies to ``order`` at ``now``, and the discount it gives (never more than the order)."""
    if is_revoked:
        return Verdict(Refusal.COUPON_REVOKED)
    if now >= expires_at:
        return Verdict(Refusal.COUPON_EXPIRED)
    if is_used_by_other_order:
        return Verdict(Refusal.COUPON_ALREADY_REDEEMED)
    if order.currency != currency:
        return Verdict(Refusal.CURRENCY_MISMATCH)
    if order.total < benefit.min_order_total:
        return Verdict(Refusal.ORDER_TOTAL_TOO_LOW)
    eligible = [line for line in order.lines if benefit.lines.matches(line)]
    eligible_total = sum((line.value for line in eligible), Decimal(0)) if order.lines else order.total
    if benefit.kind is BenefitKind.FREE_SHIPPING:
        return Verdict(None, min(order.shipping, order.total))
    if benefit.kind is BenefitKind.FREE_PRODUCT:
        product = next((line for line in order.lines if line.sku == benefit.sku and line.quantity > 0), None)
        if product is None:
            return Verdict(Refusal.PRODUCT_NOT_IN_ORDER)
        return Verdict(None, min(product.unit_price, order.total))
    if order.lines and not eligible:
        return Verdict(Refusal.NO_ELIGIBLE_LINES)
    if benefit.kind is BenefitKind.AMOUNT_OFF:
        return Verdict(None, min(benefit.amount or Decimal(0), eligible_total, order.total))
    discount = eligible_total * (benefit.percent or Decimal(0)) / 100
    return Verdict(None, min(discount, order.total))


@dataclass(frozen=True, kw_only=True)
class CouponRedeemed(DomainEvent):
    """A shop used a member's coupon for an order."""

    type: ClassVar[str] = "coupon.redeemed"

    code: str
    reward: str | None
    order_id: str


@dataclass(frozen=True, kw_only=True)
class CouponReleased(DomainEvent):
    """The order a coupon was used for was cancelled: the coupon can be used again until it expires."""

    type: ClassVar[str] = "coupon.released"

    code: str
    reward: str | None
    order_id: str


@dataclass(frozen=True, kw_only=True)
class CouponRevoked(DomainEvent):
    """A gifted coupon taken back unused, because what gave it was undone (a referral's qualifying order refunded,
    a challenge no longer complete); it no longer applies."""

    type: ClassVar[str] = "coupon.revoked"

    code: str
    reward: str | None


@dataclass(frozen=True, kw_only=True)
class CouponExpiring(DomainEvent):
    """A coupon not used yet that expires within the program's ``coupon_notice_days`` (the scheduled jobs)."""

    type: ClassVar[str] = "coupon.expiring"

    code: str
    reward: str
    expires_at: datetime
