"""What push keeps about a member: the devices they let the portal notify. A device's endpoint and keys are secrets
(whoever holds them can notify the device), so the export names each device by when it was added and last reached;
erasure deletes the devices."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows
from punchcard.push.models import PushSubscription


def _export(session: Session, subject: Subject) -> Rows:
    query = (
        select(PushSubscription).where(PushSubscription.member_id == subject.member_id).order_by(PushSubscription.id)
    )
    return {"push_subscriptions": as_rows(session.execute(query).scalars(), omit={"endpoint", "p256dh", "auth"})}


def _erase(session: Session, erasure: Erasure) -> None:
    session.execute(delete(PushSubscription).where(PushSubscription.member_id == erasure.subject.member_id))


PART = Part("push", ("push_subscriptions",), _export, _erase)
