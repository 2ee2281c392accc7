"""Survey invitations: one row per member and occasion, from the purchase that schedules it to the answer.

A row is ``scheduled`` when a purchase calls for a survey, ``invited`` when the jobs send it (with the secret of its
answer link), ``answered`` once the member answers (the answer is on the row, so it is recorded once per
invitation), or ``skipped`` (and why) when it is not sent after all.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class SurveyInvitation(Base):
    __tablename__ = "survey_invitations"
    __table_args__ = (
        Index(
            "ix_survey_invitations_due",
            "due_at",
            "id",
            postgresql_where=text("status = 'scheduled'"),
            sqlite_where=text("status = 'scheduled'"),
        ),
        Index("ix_survey_invitations_member", "member_id", "survey", "invited_at"),
        Index("ix_survey_invitations_answers", "program_id", "survey", "answered_at"),
        UniqueConstraint("program_id", "survey", "order_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    survey: Mapped[str] = mapped_column(String(63))
    order_id: Mapped[str] = mapped_column(String(200))
    """The purchase the survey asks about: one invitation per purchase and survey, however often it is heard."""
    due_at: Mapped[datetime] = mapped_column(UtcDateTime)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(200), default="")
    invited_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    token: Mapped[str | None] = mapped_column(String(64), unique=True, default=None)
    """The secret in the answer link; the link is the member's authority to answer, without signing in."""
    answered_at: Mapped[datetime | None] = mapped_column(UtcDateTime, default=None)
    score: Mapped[int | None] = mapped_column(Integer, default=None)
    comment: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(16), default="")
    """The language the member answered in."""
    points: Mapped[int] = mapped_column(Integer, default=0)
    """The points the answer earned."""
