"""The connectors' rows: deliveries received and orders seen."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from punchcard.shops.models import ShopDelivery, ShopOrder


def claim_delivery(
    session: Session, program_id: int, platform: str, delivery_id: str, topic: str, now: datetime
) -> ShopDelivery | None:
    """Record the delivery as being handled; ``None`` when it was received before (or is being handled by another
    request, which this one waits for): a platform's retry does nothing twice."""
    row = ShopDelivery(
        program_id=program_id, platform=platform, delivery_id=delivery_id, topic=topic, received_at=now, outcome={}
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        return None
    return row


def delivery(session: Session, program_id: int, platform: str, delivery_id: str) -> ShopDelivery | None:
    return session.execute(
        select(ShopDelivery).where(
            ShopDelivery.program_id == program_id,
            ShopDelivery.platform == platform,
            ShopDelivery.delivery_id == delivery_id,
        )
    ).scalar_one_or_none()


def locked_order(session: Session, program_id: int, platform: str, order_ref: str) -> ShopOrder | None:
    """The order, locked until the transaction ends: deliveries about one order are applied one after the other."""
    return session.execute(
        select(ShopOrder)
        .where(ShopOrder.program_id == program_id, ShopOrder.platform == platform, ShopOrder.order_ref == order_ref)
        .with_for_update()
    ).scalar_one_or_none()


def add_order(session: Session, **fields: Any) -> ShopOrder:
    """A new order row; when a concurrent delivery made it first, that one (locked)."""
    row = ShopOrder(**fields)
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        found = locked_order(session, fields["program_id"], fields["platform"], fields["order_ref"])
        assert found is not None
        return found
    return row


def order_members(session: Session, program_id: int, platform: str) -> list[str]:
    """The members with orders from the platform's shop, each once."""
    found = session.execute(
        select(ShopOrder.member_external_id)
        .where(
            ShopOrder.program_id == program_id,
            ShopOrder.platform == platform,
            ShopOrder.member_external_id.is_not(None),
        )
        .distinct()
        .order_by(ShopOrder.member_external_id)
    ).scalars()
    return [external_id for external_id in found if external_id is not None]
