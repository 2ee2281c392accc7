"""Coalition links and movements.

A **link** ties a member's account at one brand to their accounts at the coalition's other brands: the rows of one
person share ``person`` (a hash of the e-mail address they signed in with, which proves it is theirs). A **movement**
is one exchange between two brands: its points are ledger entries in each brand's program (``exchange``, against
``program:coalition``, each side balanced on its own), and this row is the settlement entry: what the sender owes the
receiver, in the coalition's currency. Movements are never changed or deleted.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class CoalitionLink(Base):
    __tablename__ = "coalition_links"
    __table_args__ = (
        UniqueConstraint("coalition", "member_id", name="uq_coalition_links_member"),
        UniqueConstraint("coalition", "person", "program_id", name="uq_coalition_links_person"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coalition: Mapped[str] = mapped_column(String(63))
    person: Mapped[str] = mapped_column(String(64))
    """SHA-256 of the lower-cased e-mail address the member proved by signing in."""
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    linked_at: Mapped[datetime] = mapped_column(UtcDateTime)


class CoalitionMovement(Base):
    __tablename__ = "coalition_movements"
    __table_args__ = (
        UniqueConstraint("coalition", "sender_member_id", "idempotency_key"),
        Index("ix_coalition_movements_time", "coalition", "occurred_at"),
        Index("ix_coalition_movements_receiver", "receiver_member_id", "id"),
        Index("ix_coalition_movements_sender", "sender_member_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    coalition: Mapped[str] = mapped_column(String(63))
    sender_program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    sender_member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    receiver_program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    receiver_member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    units: Mapped[int] = mapped_column(Integer)
    points_sent: Mapped[int] = mapped_column(Integer)
    points_received: Mapped[int] = mapped_column(Integer)
    value_minor: Mapped[int] = mapped_column(Integer)
    """What the sender owes the receiver for this movement."""
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(16))
    """``transfer`` (the member moved points) or ``reward`` (they paid a partner's reward with them)."""
    idempotency_key: Mapped[str] = mapped_column(String(255))
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime)
