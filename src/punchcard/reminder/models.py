"""The reminders given: one row per member and thing announced, so that a reminder is given once."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class Reminder(Base):
    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("member_id", "kind", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    kind: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(100))
    given_at: Mapped[datetime] = mapped_column(UtcDateTime)
