"""The member row. Points are not here: they live in the ledger. The tier is state, changed only with a history row."""

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class Member(Base):
    __tablename__ = "members"
    __table_args__ = (
        UniqueConstraint("program_id", "external_id"),
        Index("ix_members_program_email", "program_id", "email"),
        # The scheduled jobs find the members whose birthday or enrolment anniversary is due by ranges of these
        # (``celebration``), one range per year of birth or enrolment.
        Index("ix_members_program_birth_date", "program_id", "birth_date"),
        Index("ix_members_program_enrolled_at", "program_id", "enrolled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), default=None)
    name: Mapped[str | None] = mapped_column(String(200), default=None)
    birth_date: Mapped[date | None] = mapped_column(Date, default=None)
    birth_date_changed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    """When ``birth_date`` last changed after enrolment: a birthday gift needs it unchanged for a while."""
    language: Mapped[str | None] = mapped_column(String(16), default=None)
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(16), default="active")
    enrolled_at: Mapped[datetime] = mapped_column(UtcDateTime)
    tier_code: Mapped[str | None] = mapped_column(String(63), default=None)
    tier_since: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    tier_grace_until: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class ConsentChange(Base):
    """Every change of a member's marketing consent: what it became, when, and through what (``api``, ``portal``,
    ``unsubscribe``, ``enrolment``), so that a shop can show when and how a member agreed or withdrew."""

    __tablename__ = "consent_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), index=True)
    consent: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)


class PseudonymKey(Base):
    """The secret a program's erased members' pseudonyms are made with (``domain.pseudonym``): made at the program's
    first erasure and kept, since with a new key a former external id would no longer be recognised."""

    __tablename__ = "member_pseudonym_keys"

    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
