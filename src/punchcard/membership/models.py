"""Membership tables: each member's membership as last written (one row per member, kept across rejoins so the
trials had stay known), and every change of it, from which the console's figures (MRR, churn, trial conversion)
are counted.

A membership row changes only under the member's row lock (the event path holds it; the jobs take it), like the
member's points. ``changes_at`` and ``gift_at`` say when time will next change it or its monthly reward falls due,
so the jobs find the rows due with an index instead of reading every membership.
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class MembershipRow(Base):
    __tablename__ = "memberships"
    __table_args__ = (
        Index("ix_memberships_subscription", "program_id", "subscription_ref"),
        Index("ix_memberships_plan", "program_id", "plan", "status"),
        Index(
            "ix_memberships_changes_at",
            "changes_at",
            postgresql_where=text("changes_at IS NOT NULL"),
            sqlite_where=text("changes_at IS NOT NULL"),
        ),
        Index(
            "ix_memberships_gift_at",
            "gift_at",
            postgresql_where=text("gift_at IS NOT NULL"),
            sqlite_where=text("gift_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    plan: Mapped[str] = mapped_column(String(63))
    period: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime)
    current_period_start: Mapped[datetime] = mapped_column(UtcDateTime)
    current_period_end: Mapped[datetime] = mapped_column(UtcDateTime)
    paid_minor: Mapped[int] = mapped_column(Integer)
    trial: Mapped[bool] = mapped_column(Boolean)
    payment_ref: Mapped[str | None] = mapped_column(String(200))
    subscription_ref: Mapped[str | None] = mapped_column(String(200))
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean)
    grace_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    trialled: Mapped[list[str]] = mapped_column(JSON)
    gifted_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
    changes_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When time next changes the membership (its period's end, its grace's end); none once it has ended."""
    gift_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    """When its next monthly reward falls due; none without one."""
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class MembershipChange(Base):
    """One change of a membership, as its domain event said it (append-only)."""

    __tablename__ = "membership_changes"
    __table_args__ = (Index("ix_membership_changes_program_time", "program_id", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(32))
    """The domain event's type: ``membership.started``, ``.renewed``, ``.payment_failed``, ``.cancelled``,
    ``.ended``."""
    plan: Mapped[str] = mapped_column(String(63))
    period: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16))
    """The status after the change."""
    trial: Mapped[bool] = mapped_column(Boolean)
    """A start into a trial, or an end of an unconverted trial."""
    converted: Mapped[bool] = mapped_column(Boolean)
    """A renewal that was the first payment after a trial."""
    paid_minor: Mapped[int] = mapped_column(Integer)
    refund_minor: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
