"""What other features' endpoints share of the event path: recording an event they built (a membership started
through its own endpoint, a payment provider's webhook) exactly as ``POST /api/v1/events`` records one, or accepting
events for later in the caller's own transaction (a shop platform's webhook: ``accept_later``)."""

from __future__ import annotations

from datetime import datetime

from fastapi import Request
from sqlalchemy.orm import Session

from punchcard.event import repository
from punchcard.event.accepted import Answers, Received, accept
from punchcard.event.group_commit import GroupCommit
from punchcard.event.schemas import EventIn
from punchcard.event.service import Outcome
from punchcard.program.domain import ProgramVersion


async def record_now(request: Request, version: ProgramVersion, body: EventIn, now: datetime) -> Outcome:
    """Record ``body`` through the process's group commit and return its outcome once committed (201, or 200 for a
    replay of the same id and body); refusals are raised."""
    committer: GroupCommit = request.app.state.group_commit
    return await committer.record(version, body, Received.of(body).digest, now)


def told_at(request: Request, program_id: int, event_id: str) -> datetime | None:
    """When an event recorded under ``event_id`` happened, if one was: an endpoint whose event's moment defaults to
    now asks, so that a retry builds the same event and is answered as a replay, not as a conflict."""
    with request.app.state.sessions() as session:
        found = repository.find_event(session, program_id, event_id)
        return found.occurred_at if found is not None else None


def accept_later(session: Session, version: ProgramVersion, bodies: list[EventIn], now: datetime) -> Answers:
    """Accept ``bodies`` for the intake's workers in ``session``'s transaction, which the caller commits with its own
    writes: what a webhook stored and the events it owes are kept together or not at all. For each, in order, where
    it stands or why it was refused (as ``Prefer: respond-async`` answers)."""
    return accept(session, version, [Received.of(body) for body in bodies], now)
