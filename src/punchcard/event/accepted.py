"""Events accepted now and processed later: ``POST /api/v1/events`` with ``Prefer: respond-async``, the batch
endpoint, and where an event stands (``GET /api/v1/events/{id}``).

Accepting checks what needs no member (the body's schema, the currency, that it did not happen in the future),
stores the event durably in the intake (``punchcard.intake``) and is answered ``202`` after the commit. A worker
(``event.worker``) later records it through exactly the event path of a synchronous request. An id recorded before
by a synchronous request is not accepted again: its status is that request's response (or a conflict, when the body
differs), as a retry of the request would have been answered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.event import repository
from punchcard.event.errors import EventNotFound
from punchcard.event.models import Event
from punchcard.event.schemas import EventIn
from punchcard.event.service import check_moment_and_currency
from punchcard.intake import service as intake
from punchcard.intake.domain import Status
from punchcard.intake.service import Arrival, Tracked
from punchcard.kit.batching import Batcher
from punchcard.kit.errors import IdempotencyConflict, PunchcardError, received_with_another_body
from punchcard.kit.idempotency import request_hash
from punchcard.program.domain import ProgramVersion

log = logging.getLogger(__name__)

Answers = list[Tracked | PunchcardError]


@dataclass(frozen=True)
class Received:
    """An event as received: validated, as JSON (what is hashed, and stored when it is accepted), and its hash."""

    body: EventIn
    json: dict[str, Any]
    digest: str

    @classmethod
    def of(cls, body: EventIn) -> Received:
        json = body.model_dump(mode="json")
        return cls(body, json, request_hash(json))


def accept(session: Session, version: ProgramVersion, items: list[Received], now: datetime) -> Answers:
    """Accept ``items`` in one write; for each, in order, where it stands or why it was refused. The caller
    commits, then answers."""
    program_id = version.program_id
    recorded = repository.find_events(session, program_id, [item.body.id for item in items])
    answers: list[Tracked | PunchcardError | None] = []
    arrivals: list[Arrival] = []
    for item in items:
        body = item.body
        try:
            check_moment_and_currency(version.program, body, now)
        except PunchcardError as refusal:
            answers.append(refusal)
            continue
        event = recorded.get(body.id)
        if event is not None:
            answers.append(_recorded(event, item.digest))
            continue
        answers.append(None)
        arrivals.append(Arrival(body.id, body.member_external_id, item.json, item.digest))
    accepted = iter(intake.accept(session, program_id, version.version, arrivals, now))
    return [next(accepted) if answer is None else answer for answer in answers]


def _recorded(event: Event, digest: str) -> Tracked | IdempotencyConflict:
    """An event a synchronous request recorded, received again: its response, unless this body differs."""
    if event.request_hash != digest:
        return received_with_another_body(event.external_id)
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


@dataclass(frozen=True)
class _Request:
    """One request's events to accept (one, or a batch's)."""

    version: ProgramVersion
    items: list[Received]
    now: datetime


class AcceptCommit:
    """The accepts of the requests that arrive together are written in one transaction and answered after its commit
    (``kit.batching``, as ``event.group_commit`` records events): one commit, one WAL flush, for all of them. After
    each commit ``on_commit`` is called (to wake this process's worker). A failure of the shared transaction sends
    every request to a transaction of its own."""

    def __init__(
        self, sessions: Callable[[], Session], max_batch: int, writers: int, on_commit: Callable[[], None]
    ) -> None:
        self._sessions, self._on_commit = sessions, on_commit
        self._batcher: Batcher[_Request, Answers] = Batcher(self._handle, max_batch, writers, "punchcard-accept")

    async def accept(self, version: ProgramVersion, items: list[Received], now: datetime) -> Answers:
        """Accept ``items``; for each, once committed, where it stands or why it was refused."""
        return await self._batcher.submit(_Request(version, items, now))

    def close(self) -> None:
        self._batcher.close()

    def _handle(self, requests: list[_Request]) -> list[Answers | BaseException]:
        try:
            with self._sessions() as session:
                together: list[Answers | BaseException] = [
                    accept(session, request.version, request.items, request.now) for request in requests
                ]
                session.commit()
            answers = together
        except Exception:  # each request alone, as if there were no batching
            log.info("a batch of %d accepts failed; writing them one by one", len(requests), exc_info=True)
            answers = [self._alone(request) for request in requests]
        self._on_commit()
        return answers

    def _alone(self, request: _Request) -> Answers | BaseException:
        try:
            with self._sessions() as session:
                answers = accept(session, request.version, request.items, request.now)
                session.commit()
        except Exception as failure:  # the request's error handlers answer it
            return failure
        return answers
