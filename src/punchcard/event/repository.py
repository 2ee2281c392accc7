"""Event and order lookups, and the event row's insert and stored response."""

from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from punchcard.event.models import Event, Order
from punchcard.kit.db import is_postgres
from punchcard.member.models import Member


def find_event(session: Session, program_id: int, external_id: str) -> Event | None:
    return session.execute(
        select(Event).where(Event.program_id == program_id, Event.external_id == external_id)
    ).scalar_one_or_none()


def find_order(session: Session, program_id: int, order_id: str, *, lock: bool = False) -> Order | None:
    query = select(Order).where(Order.program_id == program_id, Order.order_id == order_id)
    return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def order_count(session: Session, member_id: int) -> int:
    return int(session.execute(select(func.count()).where(Order.member_id == member_id)).scalar_one())


def member_and_event(
    session: Session, program_id: int, member_external_id: str, event_external_id: str
) -> tuple[Member | None, bool]:
    """The member, row-locked (``None`` if there is no such member), and whether an event with this id is already
    recorded: the two things processing an event needs first, in one round trip."""
    recorded = select(Event.id).where(Event.program_id == program_id, Event.external_id == event_external_id).exists()
    row = session.execute(
        select(Member, recorded)
        .where(Member.program_id == program_id, Member.external_id == member_external_id)
        .with_for_update(of=Member)
        .execution_options(populate_existing=True)
    ).one_or_none()
    return (None, False) if row is None else (row[0], bool(row[1]))


def insert_event(session: Session, **values: Any) -> int | None:
    """Insert an event row and return its id; ``None`` when its (program, id) is already taken, by a row that
    committed first (the insert waits for a concurrent one to commit or roll back)."""
    insert = postgresql.insert if is_postgres(session) else sqlite.insert
    statement = (
        insert(Event)
        .values(response={}, **values)
        .on_conflict_do_nothing(index_elements=[Event.program_id, Event.external_id])
        .returning(Event.id)
    )
    found = session.execute(statement).scalar_one_or_none()
    return None if found is None else int(found)


def store_response(session: Session, event_id: int, response: dict[str, Any]) -> None:
    """Keep the response with the event: it is what a retry of the event gets back."""
    statement = update(Event).where(Event.id == event_id).values(response=response)
    session.execute(statement, execution_options={"synchronize_session": False})
