"""What the event feature keeps about a member: the events recorded for them (the idempotency record) and their
orders with every line. Erasure changes none of it: an order's lines and amounts, the shop's order and event ids,
are the shop's own references, and once the member's row is anonymised nothing here names the person. The member's
events are also their activity (the retention of inactive members)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, select
from sqlalchemy.orm import Session

from punchcard.event.models import Event, Order
from punchcard.kit.personal import Part, Rows, Subject, as_rows


def _export(session: Session, subject: Subject) -> Rows:
    events = select(Event).where(Event.member_id == subject.member_id).order_by(Event.id)
    orders = select(Order).where(Order.member_id == subject.member_id).order_by(Order.id)
    return {
        "events": as_rows(session.execute(events).scalars(), omit={"request_hash"}),
        "orders": as_rows(session.execute(orders).scalars()),
    }


def _active(member_id: Any, since: datetime) -> ColumnElement[bool]:
    """An event of the member's (a purchase, a refund, a custom or membership event) that happened since."""
    return exists().where(Event.member_id == member_id, Event.occurred_at >= since)


PART = Part("events", ("events", "orders"), _export, active=_active)
