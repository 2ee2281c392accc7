"""Event and order lookups, and the event row's insert and stored response."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from punchcard.event.models import Event, Order
from punchcard.kit.db import InsertUnlessTaken
from punchcard.ledger.service import Due, due_columns, due_from
from punchcard.member import service as members
from punchcard.member.service import Member


def find_event(session: Session, program_id: int, external_id: str) -> Event | None:
    return session.execute(
        select(Event).where(Event.program_id == program_id, Event.external_id == external_id)
    ).scalar_one_or_none()


def find_events(session: Session, program_id: int, external_ids: list[str]) -> dict[str, Event]:
    """The recorded events among ``external_ids``, by id."""
    query = select(Event).where(Event.program_id == program_id, Event.external_id.in_(external_ids))
    return {event.external_id: event for event in session.execute(query).scalars()}


def find_order(session: Session, program_id: int, order_id: str, *, lock: bool = False) -> Order | None:
    query = select(Order).where(Order.program_id == program_id, Order.order_id == order_id)
    return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def order_count(session: Session, member_id: int) -> int:
    return int(session.execute(select(func.count()).where(Order.member_id == member_id)).scalar_one())


@dataclass(frozen=True)
class Arrival:
    """What processing an event needs to know first, read in one round trip with the member's row lock."""

    member: Member | None
    """The member, locked; ``None`` when there is no such member."""
    recorded: bool
    """Whether an event with this id is already recorded."""
    order_recorded: bool
    """Whether the event's order id is already recorded (always false without an order id)."""
    due: Due
    """What settling the member at the event's moment has to do."""


_ARRIVAL = members.locked_with(
    lambda member_id: (
        select(Event.id)
        .where(Event.program_id == bindparam("program_id"), Event.external_id == bindparam("event_id"))
        .exists(),
        select(Order.id)
        .where(Order.program_id == bindparam("program_id"), Order.order_id == bindparam("order_id"))
        .exists(),
        *due_columns(member_id, bindparam("at", type_=Event.occurred_at.type)),
    )
)
"""Built once (docs/performance.md): the member, locked as ``member.repository`` locks it, and the rest in one trip."""


def arrival(
    session: Session, program_id: int, member_id: str, event_id: str, order_id: str | None, at: datetime
) -> Arrival:
    """Lock the member and find out whether the event or its order was already recorded and what is due at ``at``."""
    parameters = {"program_id": program_id, "member_id": member_id, "event_id": event_id, "order_id": order_id}
    row = session.execute(_ARRIVAL, {**parameters, "at": at}).one_or_none()
    if row is None:
        return Arrival(None, recorded=False, order_recorded=False, due=Due.NOTHING)
    return Arrival(row[0], recorded=bool(row[1]), order_recorded=bool(row[2]), due=due_from(*row[3:]))


_INSERT_EVENT = InsertUnlessTaken(Event, Event.program_id, Event.external_id)


def insert_event(session: Session, **values: Any) -> int | None:
    """Insert an event row and return its id; ``None`` when its (program, id) is already taken, by a row that
    committed first (the insert waits for a concurrent one to commit or roll back)."""
    return _INSERT_EVENT(session, {"response": {}, **values})


_INSERT_ORDER = InsertUnlessTaken(Order, Order.program_id, Order.order_id)


def insert_order(session: Session, **values: Any) -> bool:
    """Record an order; ``False`` (and nothing written) when its (program, order id) is already taken."""
    return _INSERT_ORDER(session, values) is not None


_STORE_RESPONSE = update(Event).where(Event.id == bindparam("event_id")).values(response=bindparam("response"))


def store_response(session: Session, event_id: int, response: dict[str, Any]) -> None:
    """Keep the response with the event: it is what a retry of the event gets back."""
    session.connection().execute(_STORE_RESPONSE, {"event_id": event_id, "response": response})
