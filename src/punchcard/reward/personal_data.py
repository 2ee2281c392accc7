"""What the reward feature keeps about a member: their redemptions, each with the answer a retry gets back, which
erasure scrubs of the member's external id and personal values."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows
from punchcard.reward.models import Redemption


def _export(session: Session, subject: Subject) -> Rows:
    query = select(Redemption).where(Redemption.member_id == subject.member_id).order_by(Redemption.id)
    return {"redemptions": as_rows(session.execute(query).scalars(), omit={"request_hash"})}


def _erase(session: Session, erasure: Erasure) -> None:
    query = select(Redemption).where(Redemption.member_id == erasure.subject.member_id)
    for redemption in session.execute(query).scalars():
        redemption.response = erasure.scrub(redemption.response)
    session.flush()


PART = Part("redemptions", ("redemptions",), _export, _erase)
