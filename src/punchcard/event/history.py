"""What the event feature lets others read of what it recorded: a member's latest events (the console's member page)
and figures about orders (the dashboard). Recording is ``event.service``'s."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from punchcard.event.models import Event as Event  # the row is how an event crosses the feature's boundary
from punchcard.event.models import Order
from punchcard.kit.spans import Span, span_of

OrderFigures = tuple[int, int, int, int]
"""Orders, buyers (members with an order), repeat buyers (with two or more), value (merchandise plus shipping, before
refunds, in minor units)."""


def recent_events(session: Session, member_id: int, limit: int = 20) -> Sequence[Event]:
    """The member's latest events, newest first."""
    query = select(Event).where(Event.member_id == member_id).order_by(Event.id.desc()).limit(limit)
    return session.execute(query).scalars().all()


def _order_sums(orders: Any, value: Any) -> list[ColumnElement[Any]]:
    """Over per-member rows (``orders``, ``value``): the ``OrderFigures``."""
    return [
        func.coalesce(func.sum(orders), 0),
        func.count(),
        func.coalesce(func.sum(case((orders >= 2, 1), else_=0)), 0),
        func.coalesce(func.sum(value), 0),
    ]


def _figures(row: Sequence[Any]) -> OrderFigures:
    orders, buyers, repeat_buyers, value = (int(value) for value in row)
    return orders, buyers, repeat_buyers, value


def order_figures(
    session: Session, program_id: int, start: datetime, end: datetime, *, among: Select[Any] | None = None
) -> OrderFigures:
    """The program's orders placed in ``[start, end)``; with ``among`` (a query of member ids), only those members'."""
    placed = (Order.program_id == program_id, Order.occurred_at >= start, Order.occurred_at < end)
    per_member = (
        select(
            func.count().label("orders"),
            func.sum(Order.total_minor + Order.shipping_minor).label("value"),
        )
        .where(*placed, *([Order.member_id.in_(among)] if among is not None else []))
        .group_by(Order.member_id)
        .subquery()
    )
    return _figures(session.execute(select(*_order_sums(per_member.c.orders, per_member.c.value))).one())


def order_figures_by_span(session: Session, program_id: int, spans: Sequence[Span]) -> list[OrderFigures | None]:
    """``order_figures`` for each of consecutive ``spans``, in one query; ``None`` for a span without orders."""
    placed = (
        select(
            span_of(Order.occurred_at, spans).label("span"),
            Order.member_id,
            (Order.total_minor + Order.shipping_minor).label("value"),
        )
        .where(
            Order.program_id == program_id,
            Order.occurred_at >= spans[0].start,
            Order.occurred_at < spans[-1].end,
        )
        .subquery()
    )
    per_member = (
        select(placed.c.span, func.count().label("orders"), func.sum(placed.c.value).label("value"))
        .group_by(placed.c.span, placed.c.member_id)
        .subquery()
    )
    rows = session.execute(
        select(per_member.c.span, *_order_sums(per_member.c.orders, per_member.c.value)).group_by(per_member.c.span)
    ).all()
    found = {row[0]: _figures(row[1:]) for row in rows}
    return [found.get(index) for index in range(len(spans))]
