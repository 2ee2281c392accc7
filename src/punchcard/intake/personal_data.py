"""What the intake keeps about a member: the events accepted for later, each with its body as the shop sent it and
its outcome. They name the member by external id, which erasure replaces by the pseudonym; a body's ``attributes``
(whatever the shop sent: an IP address, a phone, a device) are emptied, and the outcomes scrubbed."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from punchcard.intake.models import IntakeEvent
from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows


def _of(subject: Subject) -> Select[IntakeEvent]:
    return (
        select(IntakeEvent)
        .where(IntakeEvent.program_id == subject.program_id, IntakeEvent.member_external_id == subject.external_id)
        .order_by(IntakeEvent.id)
    )


def _export(session: Session, subject: Subject) -> Rows:
    return {"intake_events": as_rows(session.execute(_of(subject)).scalars(), omit={"request_hash"})}


def _erase(session: Session, erasure: Erasure) -> None:
    for row in session.execute(_of(erasure.subject)).scalars():
        row.member_external_id = erasure.pseudonym
        row.body = erasure.scrub({**row.body, "attributes": {}})
        row.outcome = erasure.scrub(row.outcome)
    session.flush()


PART = Part("accepted_events", ("intake_events",), _export, _erase)
