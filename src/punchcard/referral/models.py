"""Referral tables: each member's code, each referral from sign-up to payment (or rejection), and the signals the
fraud checks compare (digests, never the raw values)."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class ReferralCode(Base):
    """A member's own code, made the first time it is asked for; one per member, unique in the program."""

    __tablename__ = "referral_codes"
    __table_args__ = (UniqueConstraint("program_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    code: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)


class Referral(Base):
    """One friend referred by one member: a member is referred at most once (``referee_id`` is unique)."""

    __tablename__ = "referrals"
    __table_args__ = (
        Index("ix_referrals_referrer", "referrer_id", "created_at"),
        Index("ix_referrals_program_status", "program_id", "status", "id"),
        Index(
            "ix_referrals_payable",
            "payable_at",
            "id",
            postgresql_where=text("status = 'qualified'"),
            sqlite_where=text("status = 'qualified'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    referrer_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    referee_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    code: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    flags: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    """Every check that matched, with its reason (``{"check", "reason"}``), at sign-up and at qualification."""
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    qualified_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    order_id: Mapped[str | None] = mapped_column(String(200), default=None)
    """The qualifying order (none for referrals that qualify on sign-up)."""
    order_total_minor: Mapped[int | None] = mapped_column(Integer, default=None)
    payable_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    referee_paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    referee_points: Mapped[int] = mapped_column(Integer, default=0)
    referee_lot_id: Mapped[int | None] = mapped_column(Integer, default=None)
    referee_coupon: Mapped[str | None] = mapped_column(String(32), default=None)
    referrer_paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    referrer_points: Mapped[int] = mapped_column(Integer, default=0)
    referrer_coupon: Mapped[str | None] = mapped_column(String(32), default=None)
    referrer_capped: Mapped[bool] = mapped_column(default=False)
    reversed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    referrer_reversed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    reviewed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    reviewed_by: Mapped[str | None] = mapped_column(String(320), default=None)
    review_reason: Mapped[str | None] = mapped_column(String(400), default=None)


class ReferralSignal(Base):
    """A digest of something that identifies a person (an e-mail, a phone, an address, a card, an IP address, a
    device) seen for a member, at sign-up or on a purchase, once per member and value."""

    __tablename__ = "referral_signals"
    __table_args__ = (
        UniqueConstraint("member_id", "kind", "digest"),
        Index("ix_referral_signals_value", "program_id", "kind", "digest"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(32))
    digest: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime)
