"""Staff accounts, their sign-in sessions and the audit log of what staff did.

Staff are installation-wide (not per program). A session is stored only as the SHA-256 of its random cookie token, so a
copy of the database signs nobody in. Audit entries are append-only, like the ledger.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class StaffAccount(Base):
    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    """Stored lower-cased: the sign-in name."""
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(255))
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    last_failed_sign_in_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    locked_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class StaffSession(Base):
    __tablename__ = "staff_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_accounts.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)


class AuditEntry(Base):
    """Who (``staff_id``; none for the command line), when, what (``action``), to what (``target``) and why."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_program_at", "program_id", "at"),
        Index("ix_audit_entries_member", "member_id"),
        Index("ix_audit_entries_staff", "staff_id"),
    )

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id"))
    action: Mapped[str] = mapped_column(String(64))
    program_id: Mapped[int | None] = mapped_column(ForeignKey("programs.id"))
    """The program acted on; none for installation-wide actions (staff accounts, sign-ins)."""
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    target: Mapped[str] = mapped_column(String(300))
    """The object acted on, in words that stay readable if it is later renamed: ``member m-1``, ``API key pc_adm_x``."""
    reason: Mapped[str] = mapped_column(String(500), default="")
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    outbox_event_id: Mapped[int | None] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), unique=True, default=None
    )
    """The domain event this entry records (``staff_id`` is then none and ``action`` the event's type), written by
    the activity consumer; unique, so an event delivered twice is recorded once."""
