"""Queries of the gifts given."""

from __future__ import annotations

from typing import Any

from sqlalchemy import exists, update
from sqlalchemy.orm import Session

from punchcard.celebration.domain import Occasion
from punchcard.celebration.models import CelebrationGift
from punchcard.kit.db import InsertUnlessTaken

record = InsertUnlessTaken(CelebrationGift, CelebrationGift.member_id, CelebrationGift.occasion, CelebrationGift.year)
"""Record a gift unless the member has the occasion's gift of that year: its row id, or ``None``. On PostgreSQL a
concurrent twin's insert waits for the first to commit, then finds it."""


def given(occasion: Occasion, year: int) -> Any:
    """For a member query: the condition that the member (``member_id``, a column) has the gift already."""

    def condition(member_id: Any) -> Any:
        return exists().where(
            CelebrationGift.member_id == member_id,
            CelebrationGift.occasion == occasion.value,
            CelebrationGift.year == year,
        )

    return condition


def fill(session: Session, gift_id: int, points: int, coupon_code: str | None) -> None:
    """What the recorded gift turned out to be."""
    session.execute(
        update(CelebrationGift)
        .where(CelebrationGift.id == gift_id)
        .values(points=points, coupon_code=coupon_code)
        .execution_options(synchronize_session=False)
    )
