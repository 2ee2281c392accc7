"""What the cause feature keeps about a member: their donations (each with the answer a retry gets back, which
erasure scrubs) and their standing gift. The donations stay: they are in the causes' totals and settlements."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.cause.models import Donation, StandingGiftRow
from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows


def _export(session: Session, subject: Subject) -> Rows:
    donations = select(Donation).where(Donation.member_id == subject.member_id).order_by(Donation.id)
    standing = select(StandingGiftRow).where(StandingGiftRow.member_id == subject.member_id)
    return {
        "donations": as_rows(session.execute(donations).scalars(), omit={"request_hash"}),
        "standing_gifts": as_rows(session.execute(standing).scalars()),
    }


def _erase(session: Session, erasure: Erasure) -> None:
    for donation in session.execute(select(Donation).where(Donation.member_id == erasure.subject.member_id)).scalars():
        donation.response = erasure.scrub(donation.response)
    session.flush()


PART = Part("causes", ("donations", "standing_gifts"), _export, _erase)
