"""What the celebration feature keeps about a member: the birthday and anniversary gifts given. A birthday gift's row
carries the birthday itself (``day``), so erasure deletes those rows; the points and coupons given stay in the
ledger and the coupons, and an erased member gets no gift again (only active members are celebrated)."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from punchcard.celebration.domain import Occasion
from punchcard.celebration.models import CelebrationGift
from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows


def _export(session: Session, subject: Subject) -> Rows:
    query = select(CelebrationGift).where(CelebrationGift.member_id == subject.member_id).order_by(CelebrationGift.id)
    return {"celebration_gifts": as_rows(session.execute(query).scalars())}


def _erase(session: Session, erasure: Erasure) -> None:
    session.execute(
        delete(CelebrationGift).where(
            CelebrationGift.member_id == erasure.subject.member_id, CelebrationGift.occasion == Occasion.BIRTHDAY.value
        )
    )


PART = Part("celebrations", ("celebration_gifts",), _export, _erase)
