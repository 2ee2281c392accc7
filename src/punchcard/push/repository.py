"""Queries of VAPID keys and push subscriptions."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from punchcard.kit.db import InsertUnlessTaken
from punchcard.push.models import PushSubscription, VapidKey

_NEW_KEY = InsertUnlessTaken(VapidKey, VapidKey.program_id)
_NEW_SUBSCRIPTION = InsertUnlessTaken(PushSubscription, PushSubscription.endpoint)


def key(session: Session, program_id: int) -> VapidKey | None:
    return session.execute(select(VapidKey).where(VapidKey.program_id == program_id)).scalar_one_or_none()


def add_key(session: Session, values: dict[str, Any]) -> None:
    """Keep a new key pair unless another request kept one for the program first (then that one stands)."""
    _NEW_KEY(session, values)


def add_subscription(session: Session, values: dict[str, Any]) -> int | None:
    """The new subscription's id, or ``None`` when one with the same endpoint exists."""
    return _NEW_SUBSCRIPTION(session, values)


def by_endpoint(session: Session, endpoint: str) -> PushSubscription | None:
    return session.execute(select(PushSubscription).where(PushSubscription.endpoint == endpoint)).scalar_one_or_none()


def of_member(session: Session, member_id: int) -> Sequence[PushSubscription]:
    query = select(PushSubscription).where(PushSubscription.member_id == member_id).order_by(PushSubscription.id)
    return session.execute(query).scalars().all()


def with_any(session: Session, member_ids: Collection[int]) -> set[int]:
    query = select(PushSubscription.member_id).where(PushSubscription.member_id.in_(list(member_ids))).distinct()
    return {int(found) for found in session.execute(query).scalars()}


def remove(session: Session, member_id: int, endpoint: str) -> int:
    """Forget the member's subscription with this endpoint; how many rows went (0 or 1)."""
    gone = session.execute(
        delete(PushSubscription).where(PushSubscription.member_id == member_id, PushSubscription.endpoint == endpoint)
    )
    return int(getattr(gone, "rowcount", 0) or 0)


def remove_ids(session: Session, ids: Sequence[int]) -> None:
    if ids:
        session.execute(delete(PushSubscription).where(PushSubscription.id.in_(list(ids))))


def succeeded(session: Session, ids: Sequence[int], now: datetime) -> None:
    if ids:
        session.execute(update(PushSubscription).where(PushSubscription.id.in_(list(ids))).values(last_success_at=now))


def failed(session: Session, subscription_id: int, error: str, now: datetime) -> None:
    session.execute(
        update(PushSubscription)
        .where(PushSubscription.id == subscription_id)
        .values(last_failure_at=now, last_error=error[:200])
    )
