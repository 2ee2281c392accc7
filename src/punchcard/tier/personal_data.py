"""What the tier feature keeps about a member: every change of their tier, and why. Nothing personal once the
member's row is anonymised."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.kit.personal import Part, Rows, Subject, as_rows
from punchcard.tier.models import TierChange


def _export(session: Session, subject: Subject) -> Rows:
    query = select(TierChange).where(TierChange.member_id == subject.member_id).order_by(TierChange.id)
    return {"tier_changes": as_rows(session.execute(query).scalars())}


PART = Part("tiers", ("tier_changes",), _export)
