"""Money wallets' domain events: what happened to a gift card or a member's store credit, as consumers hear it
(docs/events.md). Amounts are integers in minor units of ``currency``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from punchcard.kit.events import JSON, DomainEvent


@dataclass(frozen=True, kw_only=True)
class GiftCardEvent(DomainEvent):
    """Something that happened to a gift card; ``member_id`` is the buyer's when a member bought it, else none."""

    card_id: int
    last4: str
    currency: str


@dataclass(frozen=True, kw_only=True)
class GiftCardIssued(GiftCardEvent):
    type: ClassVar[str] = "gift_card.issued"
    amount_minor: int
    expires_at: datetime | None
    order_id: str | None
    source: str
    """``api`` (``POST /api/v1/gift-cards``), ``sale`` (a purchase line of a gift-card sku), ``console``."""


@dataclass(frozen=True, kw_only=True)
class GiftCardRedeemed(GiftCardEvent):
    type: ClassVar[str] = "gift_card.redeemed"
    amount_minor: int
    balance_minor: int
    order_id: str


@dataclass(frozen=True, kw_only=True)
class GiftCardRefunded(GiftCardEvent):
    type: ClassVar[str] = "gift_card.refunded"
    amount_minor: int
    balance_minor: int
    order_id: str


@dataclass(frozen=True, kw_only=True)
class GiftCardExpired(GiftCardEvent):
    """What was left on the card when it expired, now breakage."""

    type: ClassVar[str] = "gift_card.expired"
    amount_minor: int


@dataclass(frozen=True, kw_only=True)
class GiftCardDisabled(GiftCardEvent):
    type: ClassVar[str] = "gift_card.disabled"
    balance_minor: int
    reason: str


@dataclass(frozen=True, kw_only=True)
class StoreCreditEvent(DomainEvent):
    member_id: int
    amount_minor: int
    balance_minor: int
    currency: str


@dataclass(frozen=True, kw_only=True)
class StoreCreditGranted(StoreCreditEvent):
    """Staff gave credit (``reason``), or a refund paid into it (``order_id``)."""

    type: ClassVar[str] = "store_credit.granted"
    reason: str
    order_id: str | None


@dataclass(frozen=True, kw_only=True)
class StoreCreditSpent(StoreCreditEvent):
    type: ClassVar[str] = "store_credit.spent"
    order_id: str


@dataclass(frozen=True, kw_only=True)
class PointsConverted(StoreCreditEvent):
    type: ClassVar[str] = "store_credit.converted"
    points: int


@dataclass(frozen=True, kw_only=True)
class CashbackEarned(StoreCreditEvent):
    """An order's cashback: ``pending`` inside the program's return window until ``available_at``, then spendable."""

    type: ClassVar[str] = "store_credit.cashback_earned"
    order_id: str
    pending: bool
    available_at: datetime | None

    def effects(self) -> list[dict[str, JSON]]:
        return [
            {
                "type": "cashback_earned",
                "amount_minor": self.amount_minor,
                "currency": self.currency,
                "pending": self.pending,
                "available_at": self.available_at.isoformat() if self.available_at else None,
            }
        ]


@dataclass(frozen=True, kw_only=True)
class CashbackReversed(StoreCreditEvent):
    """A refund took back ``amount_minor`` of an order's cashback; ``not_taken_back``: what the member had already
    spent (money never goes below zero, so that part is forgiven)."""

    type: ClassVar[str] = "store_credit.cashback_reversed"
    order_id: str
    not_taken_back: int

    def effects(self) -> list[dict[str, JSON]]:
        return [{"type": "cashback_reversed", "amount_minor": self.amount_minor, "currency": self.currency}]
