"""What the coalition feature keeps about a member: their links to their accounts at partner brands (by a hash of
the e-mail address they proved) and the movements of points they sent or received. Erasure deletes the links (the
hash is of a personal value, and an erased account is linked to nobody); the movements stay, since they are the
brands' settlement, with their stored answers scrubbed."""

from __future__ import annotations

from sqlalchemy import Select, delete, or_, select
from sqlalchemy.orm import Session

from punchcard.coalition.models import CoalitionLink, CoalitionMovement
from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows


def _movements(member_id: int) -> Select[CoalitionMovement]:
    """The movements the member sent or received."""
    return select(CoalitionMovement).where(
        or_(CoalitionMovement.sender_member_id == member_id, CoalitionMovement.receiver_member_id == member_id)
    )


def _export(session: Session, subject: Subject) -> Rows:
    links = select(CoalitionLink).where(CoalitionLink.member_id == subject.member_id).order_by(CoalitionLink.id)
    movements = _movements(subject.member_id).order_by(CoalitionMovement.id)
    return {
        "coalition_links": as_rows(session.execute(links).scalars(), omit={"person"}),
        "coalition_movements": as_rows(session.execute(movements).scalars(), omit={"request_hash"}),
    }


def _erase(session: Session, erasure: Erasure) -> None:
    session.execute(delete(CoalitionLink).where(CoalitionLink.member_id == erasure.subject.member_id))
    for movement in session.execute(_movements(erasure.subject.member_id)).scalars():
        movement.response = erasure.scrub(movement.response)
    session.flush()


PART = Part("coalition", ("coalition_links", "coalition_movements"), _export, _erase)
