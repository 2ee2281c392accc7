"""The intake table's reads and writes: set-wise inserts of accepted events, a worker's claim of a partition, and the
outcome written back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from punchcard.intake.domain import Status
from punchcard.intake.models import IntakeEvent
from punchcard.kit.db import is_postgres

LOCK_SPACE = 0x1A7A
"""The first key of the intake's advisory locks (the second is the partition): a space of its own."""


def insert_new(session: Session, rows: list[dict[str, Any]]) -> set[str]:
    """Insert ``rows`` in one statement, skipping ids already taken (on PostgreSQL a concurrent insert of the same id
    is waited for); returns the external ids inserted."""
    if not rows:
        return set()
    insert = postgresql.insert if is_postgres(session) else sqlite.insert
    statement = (
        insert(IntakeEvent)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["program_id", "external_id"])
        .returning(IntakeEvent.external_id)
    )
    return {str(external_id) for external_id in session.execute(statement).scalars()}


def find(session: Session, program_id: int, external_ids: Sequence[str]) -> dict[str, IntakeEvent]:
    if not external_ids:
        return {}
    query = select(IntakeEvent).where(IntakeEvent.program_id == program_id, IntakeEvent.external_id.in_(external_ids))
    return {row.external_id: row for row in session.execute(query).scalars()}


def waiting_partitions(session: Session) -> list[int]:
    """The partitions that have accepted events (along the partial index of accepted events)."""
    query = select(IntakeEvent.partition).where(IntakeEvent.status == Status.ACCEPTED.value).distinct()
    return sorted(int(partition) for partition in session.execute(query).scalars())


def count_accepted(session: Session, up_to: int) -> int:
    """How many events wait for a worker, counted along the partial index of accepted events, at most ``up_to``."""
    waiting = select(IntakeEvent.id).where(IntakeEvent.status == Status.ACCEPTED.value).limit(up_to).subquery()
    return int(session.execute(select(func.count()).select_from(waiting)).scalar_one())


def lock_partitions(session: Session, partitions: Sequence[int]) -> list[int]:
    """Take for this transaction those of ``partitions`` that no other worker has (PostgreSQL's advisory locks,
    released at commit or rollback, all tried in one statement); returns them. SQLite's writers take turns on the
    whole database, so there every partition is ours."""
    if not is_postgres(session):
        return list(partitions)
    taken = session.execute(_LOCK, {"partitions": list(partitions), "space": LOCK_SPACE}).scalars()
    return [int(partition) for partition in taken]


_LOCK = text("SELECT p FROM unnest(CAST(:partitions AS integer[])) AS p WHERE pg_try_advisory_xact_lock(:space, p)")


def claim(session: Session, partitions: Sequence[int], limit: int) -> list[IntakeEvent]:
    """The oldest accepted events of ``partitions``, at most ``limit``, in the order they were accepted."""
    query = (
        select(IntakeEvent)
        .where(IntakeEvent.partition.in_(partitions), IntakeEvent.status == Status.ACCEPTED.value)
        .order_by(IntakeEvent.id)
        .limit(limit)
    )
    return list(session.execute(query).scalars())


_FINISH = (
    update(IntakeEvent)
    .where(IntakeEvent.id == bindparam("row_id"), IntakeEvent.status == Status.ACCEPTED.value)
    .values(
        status=bindparam("new_status"),
        processed_at=bindparam("processed_at"),
        http_status=bindparam("http_status"),
        outcome=bindparam("outcome"),
    )
)


def finish(session: Session, outcomes: list[dict[str, Any]]) -> None:
    """Write each processed or rejected event's outcome (``row_id``, ``new_status``, ``processed_at``,
    ``http_status``, ``outcome``)."""
    if outcomes:
        session.connection().execute(_FINISH, outcomes)


def count_failure(session: Session, row_id: int) -> int:
    """One more unexpected failure of the event; returns how many it has had."""
    session.execute(update(IntakeEvent).where(IntakeEvent.id == row_id).values(attempts=IntakeEvent.attempts + 1))
    return int(session.execute(select(IntakeEvent.attempts).where(IntakeEvent.id == row_id)).scalar_one())
