"""What the outbox keeps about a member: the domain events about them, each with its payload. The events stay (they
are the history consumers were told, and an event not yet handed on still goes out), but their payloads lose the
fields their types declare personal (``DomainEvent.personal``: an e-mail, a name, a birth date, a survey comment) and
are scrubbed of the member's values. The envelope names the member by their row, so consumers read the pseudonym."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows
from punchcard.outbox.models import OutboxEvent


def _export(session: Session, subject: Subject) -> Rows:
    query = select(OutboxEvent).where(OutboxEvent.member_id == subject.member_id).order_by(OutboxEvent.id)
    return {"outbox_events": as_rows(session.execute(query).scalars(), omit={"is_fanned_out"})}


def _erase(session: Session, erasure: Erasure) -> None:
    query = select(OutboxEvent).where(OutboxEvent.member_id == erasure.subject.member_id)
    for event in session.execute(query).scalars():
        event.payload = erasure.payload(event.type, event.payload)
    session.flush()


PART = Part("activity", ("outbox_events",), _export, _erase)
