"""Received events (the idempotency record) and the orders that purchases created."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class Event(Base):
    """One row per accepted event id: the stored response is what a retry gets back."""

    __tablename__ = "events"
    __table_args__ = (UniqueConstraint("program_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    type: Mapped[str] = mapped_column(String(63))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    program_version: Mapped[int] = mapped_column(Integer)
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Order(Base):
    """What a purchase earned, and how much of it refunds have taken back so far."""

    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("program_id", "order_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    order_id: Mapped[str] = mapped_column(String(200))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", deferrable=True, initially="DEFERRED"))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(Integer)
    shipping_minor: Mapped[int] = mapped_column(Integer)
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    """Each line as given, with ``weight``: its share of the points before multipliers, for line refunds."""
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("lots.id"))
    points_earned: Mapped[int] = mapped_column(Integer)
    tier_credits_earned: Mapped[int] = mapped_column(Integer)
    points_reversed: Mapped[int] = mapped_column(Integer, default=0)
    tier_credits_reversed: Mapped[int] = mapped_column(Integer, default=0)
    refunded_minor: Mapped[int] = mapped_column(Integer, default=0)
    refunded_fraction: Mapped[str] = mapped_column(String(64), default="0")
    refunded_quantities: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
