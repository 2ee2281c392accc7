"""Events accepted now and processed later: ``POST /api/v1/events`` with ``Prefer: respond-async``, the batch
endpoint, and where an event stands (``GET /api/v1/events/{id}``).

Accepting checks what needs no member (the body's schema, the currency, that it did not happen in the future),
stores the event durably in the intake (``punchcard.intake``) and is answered ``202`` after the commit. A worker
(``event.worker``) later records it through exactly the event path of a synchronous request. An id recorded before
by a synchronous request is not accepted again: its status is that request's response (or a conflict, when the body
differs), as a retry of the request would have been answered.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.event import repository
from punchcard.event.errors import EventNotFound
from punchcard.event.models import Event
from punchcard.event.schemas import EventIn
from punchcard.event.service import check_moment_and_currency
from punchcard.intake import service as intake
from punchcard.intake.domain import Status
from punchcard.intake.service import Arrival, Tracked
from punchcard.kit.errors import IdempotencyConflict, PunchcardError
from punchcard.program.domain import ProgramVersion


def accept(
    session: Session, version: ProgramVersion, items: list[tuple[EventIn, str]], now: datetime
) -> list[Tracked | PunchcardError]:
    """Accept ``items`` (each event with the hash of its request) in one write; for each, in order, where it
    stands or why it was refused. The caller commits, then answers."""
    program_id = version.program_id
    recorded = repository.find_events(session, program_id, [body.id for body, _ in items])
    answers: list[Tracked | PunchcardError | None] = []
    arrivals: list[Arrival] = []
    for body, digest in items:
        try:
            check_moment_and_currency(version.program, body, now)
        except PunchcardError as refusal:
            answers.append(refusal)
            continue
        event = recorded.get(body.id)
        if event is not None:
            answers.append(_recorded(event, digest))
            continue
        answers.append(None)
        arrivals.append(Arrival(body.id, body.member_external_id, body.model_dump(mode="json"), digest))
    accepted = iter(intake.accept(session, program_id, version.version, arrivals, now))
    return [next(accepted) if answer is None else answer for answer in answers]


def _recorded(event: Event, digest: str) -> Tracked | IdempotencyConflict:
    """An event a synchronous request recorded, received again: its response, unless this body differs."""
    if event.request_hash != digest:
        return IdempotencyConflict(
            f"event {event.external_id!r} was already received with a different body",
            [{"event_id": event.external_id}],
        )
    return _processed(event)


def _processed(event: Event) -> Tracked:
    return Tracked(event.external_id, Status.PROCESSED, event.recorded_at, event.recorded_at, 201, event.response)


def status(session: Session, program_id: int, external_id: str) -> Tracked:
    """Where the event ``external_id`` stands: accepted, processed (with its response) or rejected (with the
    error); a synchronous request's event is processed. ``event_not_found`` when no such event was received."""
    tracked = intake.status(session, program_id, external_id)
    if tracked is not None:
        return tracked
    event = repository.find_event(session, program_id, external_id)
    if event is None:
        raise EventNotFound(f"no event with id {external_id!r}", [{"event_id": external_id}])
    return _processed(event)
