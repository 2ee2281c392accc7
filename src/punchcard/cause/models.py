"""Donations, the shop's matching budgets, and members' standing gifts.

A donation's points are ledger entries (``donate``, against ``program:donations``); this row says what they were
worth to the cause and what the shop added, for the totals and the settlement. A budget row is locked while a
donation draws on it, after the member's row: the one lock order, so two members' donations cannot overspend it.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class Donation(Base):
    __tablename__ = "donations"
    __table_args__ = (
        UniqueConstraint("program_id", "member_id", "idempotency_key"),
        Index("ix_donations_cause_time", "program_id", "cause", "donated_at"),
        Index("ix_donations_member", "member_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    cause: Mapped[str] = mapped_column(String(63))
    points: Mapped[int] = mapped_column(Integer)
    value_minor: Mapped[int] = mapped_column(Integer)
    matched_minor: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    period_key: Mapped[str] = mapped_column(String(8))
    source: Mapped[str] = mapped_column(String(16))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    """The API's ``Idempotency-Key`` (or the event that caused a standing gift): the same key again is a replay."""
    request_hash: Mapped[str | None] = mapped_column(String(64))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    donated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MatchBudget(Base):
    """What the shop has matched for a cause in one period (``2026-11``, ``2026``, ``all``)."""

    __tablename__ = "cause_match_budgets"
    __table_args__ = (UniqueConstraint("program_id", "cause", "period_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    cause: Mapped[str] = mapped_column(String(63))
    period_key: Mapped[str] = mapped_column(String(8))
    used_minor: Mapped[int] = mapped_column(Integer)


class StandingGiftRow(Base):
    """A member's standing gift (one at a time)."""

    __tablename__ = "standing_gifts"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    cause: Mapped[str] = mapped_column(String(63))
    kind: Mapped[str] = mapped_column(String(16))
    value: Mapped[int] = mapped_column(Integer)
    after_event: Mapped[int] = mapped_column(Integer)
    """The newest outbox event when it was set: the gift follows the earnings told after it."""
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
