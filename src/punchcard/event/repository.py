"""Event and order lookups, and the event row's insert and stored response."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, bindparam, case, func, insert, select, update
from sqlalchemy.orm import Session

from punchcard.event.models import Event, Order
from punchcard.kit.db import InsertUnlessTaken, is_postgres
from punchcard.ledger import service as ledger
from punchcard.ledger.account import Known
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
class Reserved:
    """Ids an event's rows will have, taken in its first query, so that those rows can be inserted among its last
    writes, all sent together, instead of one round trip each to learn their ids (docs/decisions.md, issue 9)."""

    event_row: int
    lot: int


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
    known: Known | None = None
    """The member's balances and the tier window's credits before the event (SQLite; ``None`` without a member and
    on PostgreSQL, which reads them after the lock)."""
    reserved: Reserved | None = None
    """Ids taken from the sequences for the event's row and its first lot (PostgreSQL; ``None`` on SQLite)."""


def _arrival(window: bool, since: bool, reserve: bool) -> Select[Any]:
    """The arrival's statement: with ``reserve`` (PostgreSQL) the ids of ``Reserved``; otherwise the member's
    balances, and the tier credits in ``[:since, :until]`` when ``window`` (read only for a member who can still
    rise: ``:top_tier`` out of grace reads ``NULL``). See ``arrival`` for why PostgreSQL reads no balances here."""

    def columns(member_id: Any) -> tuple[Any, ...]:
        credits = case(
            (and_(Member.tier_code == bindparam("top_tier"), Member.tier_grace_until.is_(None)), None),
            else_=ledger.credits_column(member_id, since=since),
        )
        return (
            select(Event.id)
            .where(Event.program_id == bindparam("program_id"), Event.external_id == bindparam("event_id"))
            .exists(),
            select(Order.id)
            .where(Order.program_id == bindparam("program_id"), Order.order_id == bindparam("order_id"))
            .exists(),
            *due_columns(member_id, bindparam("at", type_=Event.occurred_at.type)),
            *(() if reserve else ledger.balance_columns(member_id)),
            *((credits,) if window else ()),
            *(
                (func.nextval(func.pg_get_serial_sequence(Event.__tablename__, "id")), ledger.lot_id_column())
                if reserve
                else ()
            ),
        )

    return members.locked_with(columns)


_ARRIVALS = {
    (window, since, reserve): _arrival(window, since, reserve)
    for window in (False, True)
    for since in (False, True)
    for reserve in (False, True)
    if not (window and reserve)
}
"""Built once (docs/performance.md): the member, locked as ``member.repository`` locks it, and the rest in one trip."""


def arrival(
    session: Session,
    program_id: int,
    member_id: str,
    event_id: str,
    order_id: str | None,
    at: datetime,
    window: tuple[datetime | None, datetime] | None = None,
    top_tier: str | None = None,
) -> Arrival:
    """Lock the member and find out whether the event or its order was already recorded, what is due at ``at``, and
    the member's balances with their tier credits in ``window`` (``mechanics.tiers.credit_window``; not for a member
    in ``top_tier`` out of grace)."""
    reserve = is_postgres(session)
    if reserve:
        # On PostgreSQL a statement reads other tables as of its start, while FOR UPDATE returns the member's newest
        # row after waiting for its lock: balances read here would predate a concurrent event that held the lock
        # (the hot-member benchmark lost tier upgrades to it). They are read after the lock, through the account.
        window = None
    since, until = window if window is not None else (None, at)
    parameters = {"program_id": program_id, "member_id": member_id, "event_id": event_id, "order_id": order_id}
    statement = _ARRIVALS[window is not None, since is not None, reserve]
    bounds = {"until": until, "top_tier": top_tier, **({"since": since} if since is not None else {})}
    row = session.execute(statement, {**parameters, "at": at, **(bounds if window is not None else {})}).one_or_none()
    if row is None:
        return Arrival(None, recorded=False, order_recorded=False, due=Due.NOTHING)
    due = due_from(*row[3:6])
    if reserve:
        return Arrival(row[0], bool(row[1]), bool(row[2]), due, None, Reserved(int(row[-2]), int(row[-1])))
    balances, credits = ledger.balances_from(row[6:10]), (row[10] if window is not None else None)
    known = Known(balances) if credits is None else Known(balances, window, int(credits))
    return Arrival(row[0], bool(row[1]), bool(row[2]), due, known)


_INSERT_EVENT = InsertUnlessTaken(Event, Event.program_id, Event.external_id)


def insert_event(session: Session, **values: Any) -> int | None:
    """Insert an event row and return its id; ``None`` when its (program, id) is already taken, by a row that
    committed first (the insert waits for a concurrent one to commit or roll back)."""
    return _INSERT_EVENT(session, {"response": {}, **values})


_INSERT_RESERVED_EVENT = insert(Event).inline()


def insert_reserved_event(session: Session, **values: Any) -> None:
    """Insert an event row under its reserved id (``Reserved``), response included. An id taken meanwhile by a
    concurrent twin fails the insert (``unique_violation``): the event is then processed again on its own and
    answered as the replay it has become."""
    session.connection().execute(_INSERT_RESERVED_EVENT, values)


_INSERT_ORDER = insert(Order).inline()  # no RETURNING of the new id: it may be sent with other writes


def insert_order(session: Session, **values: Any) -> None:
    """Record an order. An order id already taken makes it fail (``kit.db.is_unique_violation``) rather than return
    whether it was written, so that it can be sent with the event's other writes (``kit.db.together``)."""
    session.connection().execute(_INSERT_ORDER, values)


_STORE_RESPONSE = update(Event).where(Event.id == bindparam("event_id")).values(response=bindparam("response"))


def store_response(session: Session, event_id: int, response: dict[str, Any]) -> None:
    """Keep the response with the event: it is what a retry of the event gets back."""
    session.connection().execute(_STORE_RESPONSE, {"event_id": event_id, "response": response})
