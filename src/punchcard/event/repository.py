"""Event and order lookups."""

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from punchcard.event.models import Event, Order


def find_event(session: Session, program_id: int, external_id: str) -> Event | None:
    return session.execute(
        select(Event).where(Event.program_id == program_id, Event.external_id == external_id)
    ).scalar_one_or_none()


def find_order(session: Session, program_id: int, order_id: str, *, lock: bool = False) -> Order | None:
    query = select(Order).where(Order.program_id == program_id, Order.order_id == order_id)
    return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def order_count(session: Session, member_id: int) -> int:
    return int(session.execute(select(func.count()).where(Order.member_id == member_id)).scalar_one())
