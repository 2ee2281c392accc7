"""Coalition rows: members' links across brands and the movements between brands."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from punchcard.coalition.domain import Flow
from punchcard.coalition.models import CoalitionLink, CoalitionMovement


def link_of(session: Session, coalition: str, member_id: int) -> CoalitionLink | None:
    return session.execute(
        select(CoalitionLink).where(CoalitionLink.coalition == coalition, CoalitionLink.member_id == member_id)
    ).scalar_one_or_none()


def links_of(session: Session, coalition: str, person: str) -> Sequence[CoalitionLink]:
    """The person's linked accounts in the coalition, one per brand."""
    return (
        session.execute(
            select(CoalitionLink)
            .where(CoalitionLink.coalition == coalition, CoalitionLink.person == person)
            .order_by(CoalitionLink.program_id)
        )
        .scalars()
        .all()
    )


def add_link(session: Session, coalition: str, person: str, program_id: int, member_id: int, now: datetime) -> bool:
    """Link the member; ``False`` when they (or another account of the person at that brand) are linked already: a
    second click, or two at once, link once."""
    try:
        with session.begin_nested():
            session.add(
                CoalitionLink(
                    coalition=coalition, person=person, program_id=program_id, member_id=member_id, linked_at=now
                )
            )
    except IntegrityError:
        return False
    return True


def remove_links(session: Session, coalition: str, person: str) -> int:
    result = session.execute(
        delete(CoalitionLink).where(CoalitionLink.coalition == coalition, CoalitionLink.person == person)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def movement_by_key(session: Session, coalition: str, sender_member_id: int, key: str) -> CoalitionMovement | None:
    return session.execute(
        select(CoalitionMovement).where(
            CoalitionMovement.coalition == coalition,
            CoalitionMovement.sender_member_id == sender_member_id,
            CoalitionMovement.idempotency_key == key,
        )
    ).scalar_one_or_none()


def add_movement(session: Session, **fields: Any) -> CoalitionMovement:
    row = CoalitionMovement(**fields)
    session.add(row)
    session.flush()
    return row


def flows(session: Session, coalition: str, since: datetime | None, until: datetime | None) -> list[Flow]:
    """The movements of ``[since, until)`` summed per sending and receiving program (ids as strings: the service
    names them)."""
    movement = CoalitionMovement
    query = select(
        movement.sender_program_id,
        movement.receiver_program_id,
        func.count(),
        func.sum(movement.units),
        func.sum(movement.value_minor),
    ).where(movement.coalition == coalition)
    if since is not None:
        query = query.where(movement.occurred_at >= since)
    if until is not None:
        query = query.where(movement.occurred_at < until)
    rows = session.execute(
        query.group_by(movement.sender_program_id, movement.receiver_program_id).order_by(
            movement.sender_program_id, movement.receiver_program_id
        )
    ).all()
    return [Flow(str(row[0]), str(row[1]), int(row[2]), int(row[3]), int(row[4])) for row in rows]


def of_member(session: Session, coalition: str, member_id: int, limit: int) -> Sequence[CoalitionMovement]:
    """The member's movements in or out, newest first."""
    movement = CoalitionMovement
    return (
        session.execute(
            select(movement)
            .where(
                movement.coalition == coalition,
                (movement.sender_member_id == member_id) | (movement.receiver_member_id == member_id),
            )
            .order_by(movement.id.desc())
            .limit(limit)
        )
        .scalars()
        .all()
    )
