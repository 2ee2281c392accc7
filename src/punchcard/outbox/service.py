"""Publishing domain events: they are written to the outbox by the commit of the transaction that made the change.

``publish`` keeps the events on the session; just before the session commits, every event published in it is
inserted in one statement (a group-commit batch of many requests included), so an event exists exactly when its
change does. Events published inside a savepoint that rolls back are dropped with it, and a transaction that rolls
back or is closed uncommitted writes none. After a commit that wrote events, the dispatchers of this process are
woken (``on_commit``), so a consumer hears of a change at once rather than at its next poll.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Insert, Integer, Select, func, insert, literal, select, text
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session, SessionTransaction

from punchcard.kit.db import UtcDateTime
from punchcard.kit.events import DomainEvent, facts
from punchcard.outbox.models import WAITING_QUALIFIED, OutboxEvent

_PENDING = "punchcard.outbox.pending"
_WROTE = "punchcard.outbox.wrote"
TABLE = OutboxEvent.__table__
"""The outbox table, for writers that insert rows of ``row`` set-wise (the importer's COPY)."""
_APPEND = insert(OutboxEvent).inline()  # no RETURNING of the new ids: the rows go out with the COMMIT


@dataclass(frozen=True)
class _Pending:
    event: DomainEvent
    recorded_at: datetime
    transaction: SessionTransaction | None


def publish(session: Session, events: Iterable[DomainEvent], recorded_at: datetime) -> None:
    """Have ``events`` written to the outbox when (and only if) the session's transaction commits."""
    session.connection()  # begins the transaction if nothing has yet: the events belong to it, and end with it
    transaction = session.get_nested_transaction() or session.get_transaction()
    pending: list[_Pending] = session.info.setdefault(_PENDING, [])
    pending.extend(_Pending(event, recorded_at, transaction) for event in events)


def last_id(session: Session) -> int:
    """The newest committed event's id (0 for none): a consumer that starts caring about a member's events now can
    tell the events from before it from those after."""
    return int(session.execute(select(func.coalesce(func.max(OutboxEvent.id), 0))).scalar_one())


def oldest_waiting(session: Session) -> datetime | None:
    """When the oldest event not yet fanned out was recorded (``None``: none waits): how far behind the dispatchers
    are, for the metrics. One probe of the small index of waiting events."""
    query = select(OutboxEvent.recorded_at).where(_WAITING).order_by(OutboxEvent.id).limit(1)
    found: datetime | None = session.execute(query).scalar_one_or_none()
    return found


_WAITING = text(WAITING_QUALIFIED)


def row(event: DomainEvent, recorded_at: datetime) -> dict[str, Any]:
    """The outbox row of ``event`` (also for writers that insert set-wise, like the importer)."""
    return {
        "program_id": event.program_id,
        "member_id": event.member_id,
        "type": event.type,
        "schema_version": event.schema_version,
        "occurred_at": event.occurred_at,
        "recorded_at": recorded_at,
        "payload": event.payload(),
        "is_fanned_out": False,
    }


def write(session: Session, rows: list[dict[str, Any]]) -> None:
    """Insert outbox rows now, in the caller's transaction (one statement)."""
    if rows:
        session.connection().execute(_APPEND, rows)
        wrote(session)


COLUMNS = [
    "program_id",
    "member_id",
    "type",
    "schema_version",
    "occurred_at",
    "recorded_at",
    "payload",
    "is_fanned_out",
]


def selected(
    dialect: str,
    kind: type[DomainEvent],
    *,
    program_id: int,
    member_id: Any,
    occurred_at: Any,
    recorded_at: datetime,
    payload: dict[str, Any],
) -> list[Any]:
    """The SELECT list (``COLUMNS``) of outbox rows of ``kind`` built in the database, one per row of the caller's
    query, for writers that work set-wise (the nightly expiry): the rows never come to Python. ``member_id``,
    ``occurred_at`` and the ``payload`` values are SQL expressions; the payload's keys must be the event's fields, so
    the JSON is what ``kind(...).payload()`` gives (``tests/outbox/test_selected_events.py``)."""
    fields = set(facts(kind))
    if set(payload) != fields:
        raise ValueError(f"a {kind.type} payload has the fields {sorted(fields)}, not {sorted(payload)}")
    build = func.json_build_object if dialect == "postgresql" else func.json_object
    pairs = [part for name, value in payload.items() for part in (literal(name), value)]
    return [
        literal(program_id, Integer),
        member_id,
        literal(kind.type),
        literal(kind.schema_version, Integer),
        occurred_at,
        literal(recorded_at, UtcDateTime()),
        build(*pairs).label("payload"),
        literal(False, Boolean),
    ]


def insert_selected(query: Select[Any]) -> Insert:
    """The INSERT of the outbox rows ``query`` selects (its columns from ``selected``); the caller runs it, alone or
    as a CTE of a larger statement, and then calls ``wrote``."""
    return insert(OutboxEvent).from_select(COLUMNS, query)


def wrote(session: Session) -> None:
    """Say that the session's transaction wrote outbox rows itself, so its commit wakes the dispatchers."""
    session.info[_WROTE] = True


_wakers: list[Callable[[], None]] = []
_wakers_lock = threading.Lock()


def on_commit(wake: Callable[[], None]) -> Callable[[], None]:
    """Call ``wake`` after every commit in this process that wrote outbox events; returns a function that stops it."""
    with _wakers_lock:
        _wakers.append(wake)

    def stop() -> None:
        with _wakers_lock:
            if wake in _wakers:
                _wakers.remove(wake)

    return stop


@sqlalchemy_event.listens_for(Session, "before_commit")
def _write_pending(session: Session) -> None:
    pending: list[_Pending] = session.info.pop(_PENDING, [])
    write(session, [row(item.event, item.recorded_at) for item in pending])


@sqlalchemy_event.listens_for(Session, "after_commit")
def _wake_dispatchers(session: Session) -> None:
    if session.info.pop(_WROTE, False):
        with _wakers_lock:
            wakers = list(_wakers)
        for wake in wakers:
            wake()


@sqlalchemy_event.listens_for(Session, "after_soft_rollback")
def _drop_rolled_back(session: Session, previous_transaction: SessionTransaction) -> None:
    """Forget the events published in the transaction that rolled back (a savepoint: only those inside it)."""
    pending: list[_Pending] = session.info.get(_PENDING, [])
    session.info[_PENDING] = [item for item in pending if not _inside(item.transaction, previous_transaction)]
    if previous_transaction.parent is None:
        session.info.pop(_WROTE, None)


@sqlalchemy_event.listens_for(Session, "after_transaction_end")
def _drop_unfinished(session: Session, transaction: SessionTransaction) -> None:
    """A session closed without committing writes nothing of what was published in it."""
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def _inside(transaction: SessionTransaction | None, ended: SessionTransaction) -> bool:
    while transaction is not None:
        if transaction is ended:
            return True
        transaction = transaction.parent
    return False
