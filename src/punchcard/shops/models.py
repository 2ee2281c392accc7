"""What the shop connectors keep: each delivery received (so a delivery sent again is known), and each order they
have seen (its member, what it paid and what has been given back since, so a refund knows its member and a
cancellation gives back exactly what is left; a guest order is kept for the figures and earns nothing)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class ShopDelivery(Base):
    __tablename__ = "shop_deliveries"
    __table_args__ = (
        UniqueConstraint("program_id", "platform", "delivery_id", name="uq_shop_deliveries_delivery"),
        Index("ix_shop_deliveries_time", "program_id", "received_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    platform: Mapped[str] = mapped_column(String(16))
    delivery_id: Mapped[str] = mapped_column(String(255))
    """``X-Shopify-Webhook-Id`` or ``X-WC-Webhook-Delivery-ID``."""
    topic: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime)
    outcome: Mapped[dict[str, Any]] = mapped_column(JSON)
    """What the delivery did: the events accepted (ids and status), or why it was ignored."""


class ShopOrder(Base):
    __tablename__ = "shop_orders"
    __table_args__ = (
        UniqueConstraint("program_id", "platform", "order_ref", name="uq_shop_orders_order"),
        Index("ix_shop_orders_time", "program_id", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    platform: Mapped[str] = mapped_column(String(16))
    order_ref: Mapped[str] = mapped_column(String(64))
    member_external_id: Mapped[str | None] = mapped_column(String(200))
    """``None``: a guest order (no customer), kept for the figures; it earns nothing."""
    currency: Mapped[str] = mapped_column(String(3))
    paid_minor: Mapped[int] = mapped_column(BigInteger)
    """What the order's purchase event carried: its lines after discounts and its shipping."""
    given_back: Mapped[dict[str, int]] = mapped_column(JSON)
    """What each refund (by its id) and the cancellation (``order``) gave back, in minor units."""
    earned: Mapped[bool] = mapped_column(Boolean)
    """Whether its purchase event was sent (an order that never earned has nothing to give back)."""
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
