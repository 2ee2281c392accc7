"""Outbox tables: the events (append-only; only ``is_fanned_out`` changes) and the deliveries that failed.

An event row is written in the same transaction as the change it reports, so it exists exactly when the change does.
The dispatcher hands each new event to the consumers that want its type in the transaction that marks it fanned out;
a consumer that fails on it gets an ``outbox_deliveries`` row: its retries, attempts and last error.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime

_ID = BigInteger().with_variant(Integer, "sqlite")


WAITING = "NOT is_fanned_out"
"""The partial index's predicate; a query repeats it word for word to be planned on the index: SQLite uses a partial
index only for a query that says what its WHERE says (SQLAlchemy writes ``is_fanned_out = 0`` for ``is_(False)``),
and PostgreSQL cannot prove that ``IS false`` implies it (both then walk every event from the first; EXPLAIN)."""
WAITING_QUALIFIED = f"NOT outbox_events.{WAITING.removeprefix('NOT ')}"
"""The same, for a query that joins other tables."""


class OutboxEvent(Base):
    __tablename__ = "outbox_events"
    __table_args__ = (
        # The dispatcher's next work: events not yet fanned out, oldest first (a small partial index).
        Index(
            "ix_outbox_events_waiting",
            "id",
            postgresql_where=text(WAITING),
            sqlite_where=text(WAITING),
        ),
        Index("ix_outbox_events_member", "member_id", "id"),
        Index("ix_outbox_events_program_type", "program_id", "type", "id"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    """The event's stable id: unique in the installation and never reused; consumers deduplicate on it."""
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int | None] = mapped_column(ForeignKey("members.id"))
    type: Mapped[str] = mapped_column(String(64))
    schema_version: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    is_fanned_out: Mapped[bool] = mapped_column(Boolean, default=False)


class OutboxDelivery(Base):
    __tablename__ = "outbox_deliveries"
    __table_args__ = (
        UniqueConstraint("event_id", "consumer"),
        Index(
            "ix_outbox_deliveries_due",
            "next_attempt_at",
            "id",
            postgresql_where=text("delivered_at IS NULL AND failed_at IS NULL"),
            sqlite_where=text("delivered_at IS NULL AND failed_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox_events.id"))
    consumer: Mapped[str] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    failed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    """When the dispatcher gave up (after ``outbox.domain.MAX_ATTEMPTS``); the row stays for an operator to see."""
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
