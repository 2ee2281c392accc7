"""Webhook queries: endpoints, the deliveries due (claimed with a lease, in order per member), and the log."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, exists, insert, select, update
from sqlalchemy.orm import Session, aliased

from punchcard.kit.db import is_postgres
from punchcard.webhook.domain import Status
from punchcard.webhook.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


def endpoint(session: Session, program_id: int, endpoint_id: int) -> WebhookEndpoint | None:
    return session.execute(
        select(WebhookEndpoint).where(
            WebhookEndpoint.program_id == program_id,
            WebhookEndpoint.id == endpoint_id,
            WebhookEndpoint.deleted_at.is_(None),
        )
    ).scalar_one_or_none()


def endpoints(session: Session, program_id: int) -> Sequence[WebhookEndpoint]:
    query = select(WebhookEndpoint).where(
        WebhookEndpoint.program_id == program_id, WebhookEndpoint.deleted_at.is_(None)
    )
    return session.execute(query.order_by(WebhookEndpoint.id)).scalars().all()


def listening(session: Session, program_ids: Sequence[int]) -> Sequence[WebhookEndpoint]:
    """The enabled endpoints of these programs: where new events go."""
    return (
        session.execute(
            select(WebhookEndpoint).where(
                WebhookEndpoint.program_id.in_(list(program_ids)),
                WebhookEndpoint.deleted_at.is_(None),
                WebhookEndpoint.disabled_at.is_(None),
            )
        )
        .scalars()
        .all()
    )


def add_deliveries(session: Session, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(WebhookDelivery), rows)


def claim_due(
    session: Session, now: datetime, lease_until: datetime, limit: int
) -> list[tuple[WebhookDelivery, WebhookEndpoint]]:
    """Up to ``limit`` pending deliveries due at ``now`` whose member has no earlier pending delivery to the same
    endpoint, leased to the caller until ``lease_until`` (a sender that dies leaves them to the next afterwards)."""
    earlier = aliased(WebhookDelivery)
    held_back = exists().where(
        earlier.endpoint_id == WebhookDelivery.endpoint_id,
        earlier.member_id == WebhookDelivery.member_id,
        earlier.status == Status.PENDING.value,
        earlier.event_id < WebhookDelivery.event_id,
    )
    query = (
        select(WebhookDelivery, WebhookEndpoint)
        .join(WebhookEndpoint, WebhookEndpoint.id == WebhookDelivery.endpoint_id)
        .where(
            WebhookDelivery.status == Status.PENDING.value,
            WebhookDelivery.next_attempt_at <= now,
            (WebhookDelivery.locked_until.is_(None)) | (WebhookDelivery.locked_until <= now),
            WebhookEndpoint.disabled_at.is_(None),
            WebhookEndpoint.deleted_at.is_(None),
            ~held_back,
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True, of=WebhookDelivery)
    found = [(row[0], row[1]) for row in session.execute(query)]
    if found:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_([delivery.id for delivery, _ in found]))
            .values(locked_until=lease_until)
        )
    return found


def record_attempt(session: Session, delivery_id: int, values: dict[str, Any], attempt: dict[str, Any]) -> None:
    session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery_id).values(**values))
    session.execute(insert(WebhookAttempt).values(delivery_id=delivery_id, **attempt))


def update_endpoint(session: Session, endpoint_id: int, **values: Any) -> None:
    session.execute(update(WebhookEndpoint).where(WebhookEndpoint.id == endpoint_id).values(**values))


def failing(session: Session, endpoint_id: int, since: datetime) -> None:
    """Note the endpoint as failing from ``since``, unless it already was."""
    session.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.failing_since.is_(None))
        .values(failing_since=since)
    )


def deliveries(
    session: Session, endpoint_id: int, before: int | None, limit: int
) -> tuple[Sequence[WebhookDelivery], dict[int, list[WebhookAttempt]]]:
    """A page of the endpoint's deliveries, newest first, with their attempts (oldest first)."""
    query = select(WebhookDelivery).where(WebhookDelivery.endpoint_id == endpoint_id)
    if before is not None:
        query = query.where(WebhookDelivery.id < before)
    page = session.execute(query.order_by(WebhookDelivery.id.desc()).limit(limit)).scalars().all()
    attempts: dict[int, list[WebhookAttempt]] = {delivery.id: [] for delivery in page}
    if page:
        rows = session.execute(
            select(WebhookAttempt).where(WebhookAttempt.delivery_id.in_(list(attempts))).order_by(WebhookAttempt.id)
        ).scalars()
        for row in rows:
            attempts[row.delivery_id].append(row)
    return page, attempts


def delivery(session: Session, endpoint_id: int, delivery_id: int) -> WebhookDelivery | None:
    return session.execute(
        select(WebhookDelivery).where(
            and_(WebhookDelivery.endpoint_id == endpoint_id, WebhookDelivery.id == delivery_id)
        )
    ).scalar_one_or_none()
