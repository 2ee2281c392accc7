"""The importer's set-wise reads and writes of the ``events`` and ``orders`` tables (thousands of orders per batch,
in a few queries): other features call these, never the event repository or models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session

from punchcard.event.models import Event, Order
from punchcard.kit import bulk
from punchcard.kit.db import is_postgres

_EVENTS = cast(Table, Event.__table__)
_ORDERS = cast(Table, Order.__table__)

TABLES = (_EVENTS.name, _ORDERS.name)
"""The tables these functions fill, for ``kit.bulk.analyze``."""


def recorded_orders(session: Session, program_id: int, order_ids: Sequence[str]) -> set[str]:
    if is_postgres(session):
        query = "SELECT order_id FROM orders WHERE program_id = %s AND order_id = ANY(%s)"
        return {row[0] for row in bulk.pg_rows(session, query, (program_id, list(order_ids)))}
    found: set[str] = set()
    for chunk in bulk.chunks(order_ids):
        found.update(
            session.execute(
                select(Order.order_id).where(Order.program_id == program_id, Order.order_id.in_(chunk))
            ).scalars()
        )
    return found


def order_counts(session: Session, member_ids: Sequence[int]) -> dict[int, int]:
    if is_postgres(session):
        query = "SELECT member_id, count(*) FROM orders WHERE member_id = ANY(%s) GROUP BY member_id"
        return {row[0]: int(row[1]) for row in bulk.pg_rows(session, query, (list(member_ids),))}
    found: dict[int, int] = {}
    for chunk in bulk.chunks(member_ids):
        rows = session.execute(
            select(Order.member_id, func.count()).where(Order.member_id.in_(chunk)).group_by(Order.member_id)
        ).all()
        found.update({member_id: int(count) for member_id, count in rows})
    return found


def reserve_ids(session: Session, count: int) -> list[int]:
    """``count`` ids for new events (``kit.bulk.reserve_ids``)."""
    return bulk.reserve_ids(session, _EVENTS, count)


def insert_events(session: Session, records: list[dict[str, Any]]) -> None:
    bulk.insert_rows(session, _EVENTS, records)


def insert_orders(session: Session, records: list[dict[str, Any]]) -> None:
    bulk.insert_rows(session, _ORDERS, records)
