"""The gifts given: one row per member, occasion and year, written in the gift's transaction, so that a member gets
one gift a year however often, or however many at once, the jobs run."""

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from punchcard.kit.db import Base, UtcDateTime


class CelebrationGift(Base):
    __tablename__ = "celebration_gifts"
    __table_args__ = (UniqueConstraint("member_id", "occasion", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("programs.id"))
    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"))
    occasion: Mapped[str] = mapped_column(String(16))
    """``birthday`` or ``anniversary`` (``celebration.domain.Occasion``)."""
    year: Mapped[int] = mapped_column(Integer)
    """The year the occasion came round in."""
    day: Mapped[date] = mapped_column(Date)
    """The birthday or anniversary it was for."""
    given_at: Mapped[datetime] = mapped_column(UtcDateTime)
    points: Mapped[int] = mapped_column(Integer, default=0)
    coupon_code: Mapped[str | None] = mapped_column(String(32), default=None)
