"""Claiming outbox work: events to fan out and deliveries that are due, each claim ``FOR UPDATE SKIP LOCKED``.

Several dispatchers (every ``serve`` worker, ``jobs run`` from cron) may run at once: on PostgreSQL each claims rows
the others have not locked, so no event is fanned out twice and no delivery is made twice at once; on SQLite the
writer lock taken at ``BEGIN IMMEDIATE`` lets one dispatcher's transaction run at a time.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import column, insert, select, table, update
from sqlalchemy.orm import Session

from punchcard.outbox.domain import Message
from punchcard.outbox.models import OutboxDelivery, OutboxEvent

# The readable ids of the envelope, by table name: the outbox sits below every feature and imports none of them.
_MEMBERS = table("members", column("id"), column("external_id"))
_PROGRAMS = table("programs", column("id"), column("slug"))


@dataclass(frozen=True)
class Claimed:
    delivery_id: int
    consumer: str
    message: Message


def claim_new_events(session: Session, limit: int) -> Sequence[tuple[int, str, datetime]]:
    """(id, type, recorded_at) of up to ``limit`` events not yet fanned out, oldest first, locked for this caller."""
    query = (
        select(OutboxEvent.id, OutboxEvent.type, OutboxEvent.recorded_at)
        .where(OutboxEvent.is_fanned_out.is_(False))
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [(row.id, row.type, row.recorded_at) for row in session.execute(query)]


def fan_out(session: Session, deliveries: list[dict[str, Any]], event_ids: Collection[int]) -> None:
    """Create the deliveries and mark their events fanned out, in the caller's transaction."""
    if deliveries:
        session.execute(insert(OutboxDelivery), deliveries)
    session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(list(event_ids))).values(is_fanned_out=True))


def claim_due(session: Session, consumers: Collection[str], now: datetime, limit: int) -> list[Claimed]:
    """Up to ``limit`` deliveries due at ``now`` to the named consumers, locked for this caller, soonest due first."""
    due = (
        select(OutboxDelivery.id)
        .where(
            OutboxDelivery.delivered_at.is_(None),
            OutboxDelivery.failed_at.is_(None),
            OutboxDelivery.next_attempt_at <= now,
            OutboxDelivery.consumer.in_(list(consumers)),
        )
        .order_by(OutboxDelivery.next_attempt_at, OutboxDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    ids = list(session.execute(due).scalars())
    if not ids:
        return []
    query = (
        select(OutboxDelivery.id, OutboxDelivery.consumer, OutboxDelivery.attempts, OutboxEvent, _PROGRAMS.c.slug)
        .join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
        .join(_PROGRAMS, _PROGRAMS.c.id == OutboxEvent.program_id)
        .add_columns(select(_MEMBERS.c.external_id).where(_MEMBERS.c.id == OutboxEvent.member_id).scalar_subquery())
        .where(OutboxDelivery.id.in_(ids))
        .order_by(OutboxDelivery.next_attempt_at, OutboxDelivery.id)
    )
    claimed: list[Claimed] = []
    for delivery_id, consumer, attempts, event, slug, external_id in session.execute(query):
        message = Message(
            id=event.id,
            type=event.type,
            schema_version=event.schema_version,
            program_id=event.program_id,
            program=slug,
            member_id=event.member_id,
            member=external_id,
            occurred_at=event.occurred_at,
            recorded_at=event.recorded_at,
            payload=event.payload,
            attempt=attempts + 1,
        )
        claimed.append(Claimed(delivery_id, consumer, message))
    return claimed


def delivered(session: Session, delivery_ids: Collection[int], now: datetime) -> None:
    """Mark deliveries done (one statement for a batch)."""
    session.execute(
        update(OutboxDelivery)
        .where(OutboxDelivery.id.in_(list(delivery_ids)))
        .values(delivered_at=now, attempts=OutboxDelivery.attempts + 1, last_error=None)
    )


def failed(
    session: Session, delivery_id: int, attempts: int, retry: datetime | None, error: str, now: datetime
) -> None:
    """Record a failed attempt: try again at ``retry``, or give up (``retry`` is ``None``)."""
    values: dict[str, Any] = {"attempts": attempts, "last_error": error[:500]}
    if retry is None:
        values["failed_at"] = now
    else:
        values["next_attempt_at"] = retry
    session.execute(update(OutboxDelivery).where(OutboxDelivery.id == delivery_id).values(**values))
