"""The intake table: one row per accepted event id."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, SmallInteger, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime

_ID = BigInteger().with_variant(Integer, "sqlite")


class IntakeEvent(Base):
    """An event accepted for later processing: its body as validated, and, once processed, its outcome."""

    __tablename__ = "intake_events"
    __table_args__ = (
        UniqueConstraint("program_id", "external_id"),
        # What workers look for: a partition's accepted events, oldest first (only those are in the index).
        Index(
            "ix_intake_events_accepted",
            "partition",
            "id",
            postgresql_where=text("status = 'accepted'"),
            sqlite_where=text("status = 'accepted'"),
        ),
        # A member's events, for the export and the erasure of their data (``personal_data``).
        Index("ix_intake_events_member", "program_id", "member_external_id"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    external_id: Mapped[str] = mapped_column(String(200))
    member_external_id: Mapped[str] = mapped_column(String(200))
    partition: Mapped[int] = mapped_column(SmallInteger)
    program_version: Mapped[int] = mapped_column(Integer)
    """The program version in force when the event was accepted: it is processed under that version, as a
    synchronous request at that moment would have been."""
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    request_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    accepted_at: Mapped[datetime] = mapped_column(UtcDateTime)
    processed_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    http_status: Mapped[int | None] = mapped_column(Integer)
    """What a synchronous request would have been answered: 201 (or 200 for an event already recorded), or the
    refusal's status."""
    outcome: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The response (processed) or the error envelope (rejected)."""
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    """Unexpected failures so far (``domain.MAX_ATTEMPTS``)."""
