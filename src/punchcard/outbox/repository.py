"""Claiming outbox work: new events (their first attempts) and retries that are due, each ``FOR UPDATE SKIP LOCKED``.

A delivery row exists only for an attempt that failed: an event every consumer took at the first attempt costs no
row at all, only its ``is_fanned_out`` flag.

Several dispatchers (every ``serve`` worker, ``jobs run`` from cron) may run at once: on PostgreSQL each claims rows
the others have not locked, so no event is fanned out twice and no delivery is made twice at once; on SQLite the
writer lock taken at ``BEGIN IMMEDIATE`` lets one dispatcher's transaction run at a time.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, column, insert, select, table, text, update
from sqlalchemy.orm import Session

from punchcard.outbox.domain import Message
from punchcard.outbox.models import WAITING_QUALIFIED, OutboxDelivery, OutboxEvent

# The readable ids of the envelope, by table name: the outbox sits below every feature and imports none of them.
_MEMBERS = table("members", column("id"), column("external_id"))
_PROGRAMS = table("programs", column("id"), column("slug"))


@dataclass(frozen=True)
class Claimed:
    delivery_id: int | None
    """The delivery row of a retry; ``None`` on the first attempt, which has no row unless it fails."""
    consumer: str
    message: Message


def _envelopes(query: Select[*tuple[Any, ...]]) -> Select[*tuple[Any, ...]]:
    """``query`` (over ``OutboxEvent`` first) with the program's slug and the member's external id added."""
    return query.join(_PROGRAMS, _PROGRAMS.c.id == OutboxEvent.program_id).add_columns(
        _PROGRAMS.c.slug,
        select(_MEMBERS.c.external_id).where(_MEMBERS.c.id == OutboxEvent.member_id).scalar_subquery(),
    )


def _message(event: OutboxEvent, slug: str, external_id: str | None, attempt: int) -> Message:
    return Message(
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
        attempt=attempt,
    )


def claim_new_events(session: Session, limit: int) -> list[Message]:
    """Up to ``limit`` events not yet fanned out, oldest first, locked for this caller (their first attempts)."""
    query = _envelopes(
        select(OutboxEvent)
        .where(text(WAITING_QUALIFIED))
        .order_by(OutboxEvent.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=OutboxEvent)
    )
    return [_message(event, slug, external_id, 1) for event, slug, external_id in session.execute(query)]


def fanned_out(session: Session, event_ids: Collection[int]) -> None:
    """Mark events as handed to every consumer (what failed has a delivery row of its own by now)."""
    session.execute(update(OutboxEvent).where(OutboxEvent.id.in_(list(event_ids))).values(is_fanned_out=True))


def claim_due(session: Session, consumers: Collection[str], now: datetime, limit: int) -> list[Claimed]:
    """Up to ``limit`` retries due at ``now`` to the named consumers, locked for this caller, soonest due first."""
    query = _envelopes(
        select(OutboxEvent, OutboxDelivery.id, OutboxDelivery.consumer, OutboxDelivery.attempts)
        .join(OutboxDelivery, OutboxDelivery.event_id == OutboxEvent.id)
        .where(
            OutboxDelivery.delivered_at.is_(None),
            OutboxDelivery.failed_at.is_(None),
            OutboxDelivery.next_attempt_at <= now,
            OutboxDelivery.consumer.in_(list(consumers)),
        )
        .order_by(OutboxDelivery.next_attempt_at, OutboxDelivery.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=OutboxDelivery)
    )
    return [
        Claimed(delivery_id, consumer, _message(event, slug, external_id, attempts + 1))
        for event, delivery_id, consumer, attempts, slug, external_id in session.execute(query)
    ]


def delivered(session: Session, delivery_ids: Collection[int], now: datetime) -> None:
    """Mark deliveries done (one statement for a batch)."""
    session.execute(
        update(OutboxDelivery)
        .where(OutboxDelivery.id.in_(list(delivery_ids)))
        .values(delivered_at=now, attempts=OutboxDelivery.attempts + 1, last_error=None)
    )


def failed(session: Session, item: Claimed, retry: datetime | None, error: str, now: datetime) -> None:
    """Record a failed attempt: try again at ``retry``, or give up (``retry`` is ``None``). A first attempt's failure
    creates the delivery row that its retries then update."""
    values: dict[str, Any] = {"attempts": item.message.attempt, "last_error": error[:500]}
    if retry is None:
        values["failed_at"] = now
    else:
        values["next_attempt_at"] = retry
    if item.delivery_id is None:
        row = {"event_id": item.message.id, "consumer": item.consumer, "next_attempt_at": retry or now, **values}
        session.execute(insert(OutboxDelivery).values(**row))
    else:
        session.execute(update(OutboxDelivery).where(OutboxDelivery.id == item.delivery_id).values(**values))
