"""A member's play: progress in challenges and streaks, badges earned, and the opt-in to leaderboards.

One ``challenge_progress`` row per member and challenge period (a recurring challenge has one per week or month, and
a row of period ``""`` that says when the member joined it) or streak. Its ``state`` is the pure record of
``challenge.progress`` / ``challenge.streaks``, with every contribution kept by order id, so a refund takes away
exactly what its order gave; ``current`` and ``completed_at`` repeat what leaderboards sort by. All of a member's
rows change under the member's row lock, as their points do.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class ChallengeProgress(Base):
    __tablename__ = "challenge_progress"
    __table_args__ = (
        UniqueConstraint("member_id", "kind", "code", "period"),
        Index("ix_challenge_progress_board", "program_id", "kind", "code", "period", "current"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(16))
    """``challenge`` or ``streak``."""
    code: Mapped[str] = mapped_column(String(63))
    period: Mapped[str] = mapped_column(String(16), default="")
    """``2026-06``, ``2026-W23`` for a recurring challenge's periods; ``""`` otherwise."""
    joined_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    current: Mapped[int] = mapped_column(Integer, default=0)
    completed_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)


class BadgeAward(Base):
    """One earning of a badge; its level is how many unrevoked awards the member holds. ``source`` names what
    earned it (``challenge:explorer::1``), once."""

    __tablename__ = "badge_awards"
    __table_args__ = (UniqueConstraint("member_id", "badge", "source"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    badge: Mapped[str] = mapped_column(String(63))
    source: Mapped[str] = mapped_column(String(120))
    awarded_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)


class LeaderboardOptIn(Base):
    """A member who agreed to be shown on leaderboards (first name and initial only); no row, not shown."""

    __tablename__ = "leaderboard_opt_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), unique=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"), index=True)
    opted_in_at: Mapped[datetime] = mapped_column(UtcDateTime)
