"""The intake table's reads and writes: set-wise inserts of accepted events, a worker's claim of a partition, and the
outcome written back."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import bindparam, func, select, update
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


def lock_partition(session: Session, partition: int) -> bool:
    """Take the partition for this transaction, unless another worker has it: PostgreSQL's advisory lock, released at
    commit or rollback. SQLite's writers take turns on the whole database, so there it is always ours."""
    if not is_postgres(session):
        return True
    taken = session.execute(select(func.pg_try_advisory_xact_lock(LOCK_SPACE, partition))).scalar_one()
    return bool(taken)


def claim(session: Session, partition: int, limit: int) -> list[IntakeEvent]:
    """A partition's oldest accepted events, at most ``limit``, in the order they were accepted."""
    query = (
        select(IntakeEvent)
        .where(IntakeEvent.partition == partition, IntakeEvent.status == Status.ACCEPTED.value)
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
