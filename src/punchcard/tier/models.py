"""Every tier change is kept, so "why am I Silver?" and "when did I lose Gold?" have answers."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class TierChange(Base):
    __tablename__ = "tier_changes"
    __table_args__ = (Index("ix_tier_changes_member", "member_id", "changed_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    from_code: Mapped[str | None] = mapped_column(String(63))
    to_code: Mapped[str] = mapped_column(String(63))
    reason: Mapped[str] = mapped_column(String(32))
    changed_at: Mapped[datetime] = mapped_column(UtcDateTime)
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("events.id", deferrable=True, initially="DEFERRED"), default=None
    )
