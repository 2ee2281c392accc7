"""Accepting events for later, telling their status, and handing them to workers in order per member.

The intake knows nothing of what an event means: it keeps the validated body, the request's hash (a retry with
another body is a conflict) and the program version in force, and after processing the outcome a synchronous request
would have been answered with. Processing itself is the event path's (``event.worker``): it claims a partition here,
records each event, and writes the outcomes back in the same transaction, so an event is processed exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.intake import repository
from punchcard.intake.domain import MAX_ATTEMPTS, Status, partition_of
from punchcard.intake.errors import ProcessingFailed
from punchcard.intake.models import IntakeEvent
from punchcard.kit.errors import IdempotencyConflict, received_with_another_body


@dataclass(frozen=True)
class Arrival:
    """One event to accept: its id, member, validated body (as JSON) and the hash of the request."""

    external_id: str
    member_external_id: str
    body: dict[str, Any]
    request_hash: str


@dataclass(frozen=True)
class Tracked:
    """Where an accepted event stands."""

    external_id: str
    status: Status
    accepted_at: datetime
    processed_at: datetime | None = None
    http_status: int | None = None
    outcome: dict[str, Any] | None = None

    def document(self) -> dict[str, Any]:
        """The status as the API shows it: the response once processed, the error once rejected."""
        shown: dict[str, Any] = {
            "event_id": self.external_id,
            "status": self.status.value,
            "accepted_at": self.accepted_at.isoformat(),
            "processed_at": self.processed_at.isoformat() if self.processed_at is not None else None,
        }
        if self.status is Status.PROCESSED:
            shown["response"] = self.outcome
        elif self.status is Status.REJECTED and self.outcome is not None:
            shown["error"] = self.outcome["error"]
        return shown


def _tracked(row: IntakeEvent) -> Tracked:
    return Tracked(row.external_id, Status(row.status), row.accepted_at, row.processed_at, row.http_status, row.outcome)


def accept(
    session: Session, program_id: int, program_version: int, arrivals: list[Arrival], now: datetime
) -> list[Tracked | IdempotencyConflict]:
    """Store ``arrivals`` (ids not seen before) in one statement; for each, in order, where it stands: accepted now,
    or as it was when the same id was accepted before with the same body, or a conflict when the body differed (a
    second copy in the same batch is a retry of the first). The caller commits; only then may it answer ``202``."""
    first: dict[str, Arrival] = {}
    for arrival in arrivals:
        first.setdefault(arrival.external_id, arrival)
    inserted = repository.insert_new(session, [_row(program_id, program_version, a, now) for a in first.values()])
    earlier = repository.find(
        session, program_id, [external_id for external_id in first if external_id not in inserted]
    )
    answers: list[Tracked | IdempotencyConflict] = []
    for arrival in arrivals:
        if arrival.external_id in inserted:
            tracked, stored_hash = (
                Tracked(arrival.external_id, Status.ACCEPTED, now),
                first[arrival.external_id].request_hash,
            )
        else:
            row = earlier[arrival.external_id]
            tracked, stored_hash = _tracked(row), row.request_hash
        same = stored_hash == arrival.request_hash
        answers.append(tracked if same else received_with_another_body(arrival.external_id))
    return answers


def _row(program_id: int, program_version: int, arrival: Arrival, now: datetime) -> dict[str, Any]:
    return {
        "program_id": program_id,
        "external_id": arrival.external_id,
        "member_external_id": arrival.member_external_id,
        "partition": partition_of(arrival.member_external_id),
        "program_version": program_version,
        "body": arrival.body,
        "request_hash": arrival.request_hash,
        "status": Status.ACCEPTED.value,
        "accepted_at": now,
        "attempts": 0,
    }


def status(session: Session, program_id: int, external_id: str) -> Tracked | None:
    """Where the event accepted under ``external_id`` stands; ``None`` if no such event was accepted."""
    row = repository.find(session, program_id, [external_id]).get(external_id)
    return None if row is None else _tracked(row)


# --- for the workers (``event.worker``) ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """An accepted event handed to a worker."""

    row_id: int
    program_id: int
    program_version: int
    external_id: str
    member_external_id: str
    body: dict[str, Any]
    request_hash: str


def waiting_partitions(session: Session) -> list[int]:
    return repository.waiting_partitions(session)


def backlog(session: Session, up_to: int) -> int:
    """How many accepted events wait for a worker (at most ``up_to``: counting stops there), for the metrics."""
    return repository.count_accepted(session, up_to)


def claim(session: Session, partitions: Sequence[int], limit: int) -> list[Waiting]:
    """Take for this transaction those of ``partitions`` no other worker has, and return their oldest accepted events
    (at most ``limit``); none when another worker has them all. Until the transaction ends no one else processes
    those partitions, so a member's events are processed one after another, in the order they were accepted."""
    taken = repository.lock_partitions(session, partitions)
    if not taken:
        return []
    return [
        Waiting(
            row.id,
            row.program_id,
            row.program_version,
            row.external_id,
            row.member_external_id,
            row.body,
            row.request_hash,
        )
        for row in repository.claim(session, taken, limit)
    ]


@dataclass(frozen=True)
class Finished:
    """What processing an event came to: the response (``processed``) or the error envelope (``rejected``)."""

    row_id: int
    status: Status
    http_status: int
    outcome: dict[str, Any]


def finish(session: Session, finished: list[Finished], now: datetime) -> None:
    """Write the outcomes, in the transaction that did the processing (so it happens exactly once)."""
    repository.finish(
        session,
        [
            {
                "row_id": done.row_id,
                "new_status": done.status.value,
                "processed_at": now,
                "http_status": done.http_status,
                "outcome": done.outcome,
            }
            for done in finished
        ],
    )


def failed(session: Session, waiting: Waiting, error: str, now: datetime) -> bool:
    """Count an unexpected failure of processing ``waiting``; after ``MAX_ATTEMPTS`` the event is rejected (returns
    ``True``) so that its partition moves on."""
    if repository.count_failure(session, waiting.row_id) < MAX_ATTEMPTS:
        return False
    failure = ProcessingFailed(error, [{"attempts": MAX_ATTEMPTS}])
    finish(session, [Finished(waiting.row_id, Status.REJECTED, failure.status, failure.envelope())], now)
    return True
