"""Event and order lookups, and the event row's insert and stored response."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Select, and_, bindparam, case, func, insert, null, select, true, update
from sqlalchemy.orm import Session, aliased

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
    """The member's balances, and the tier window's credits, before the event (``None`` without a member)."""
    reserved: Reserved | None = None
    """Ids taken from the sequences for the event's row and its first lot (PostgreSQL; ``None`` on SQLite)."""


def _recorded() -> tuple[Any, Any]:
    """Whether the event id and the order id are taken."""
    return (
        select(Event.id)
        .where(Event.program_id == bindparam("program_id"), Event.external_id == bindparam("event_id"))
        .exists(),
        select(Order.id)
        .where(Order.program_id == bindparam("program_id"), Order.order_id == bindparam("order_id"))
        .exists(),
    )


def _unless_at_the_top(member: Any, credits: Any) -> Any:
    """``credits``, or ``NULL`` for a member in ``:top_tier`` out of grace: earning cannot move them, so their
    credits are not read."""
    at_the_top = and_(member.tier_code == bindparam("top_tier"), member.tier_grace_until.is_(None))
    return case((at_the_top, None), else_=credits)


def _sqlite_arrival(window: bool, since: bool) -> Select[Any]:
    """The member, locked, with everything ``Arrival`` holds read in the same statement; the tier credits in
    ``[:since, :until]`` when ``window``. Right on SQLite only, whose writers take turns: nothing commits between the
    statement's start and the lock (see ``_POSTGRES_ARRIVAL``)."""

    def columns(member_id: Any) -> tuple[Any, ...]:
        credits = _unless_at_the_top(Member, ledger.credits_column(member_id, since=since))
        return (
            *_recorded(),
            *due_columns(member_id, bindparam("at", type_=Event.occurred_at.type)),
            *ledger.balance_columns(member_id),
            credits if window else null(),
        )

    return members.locked_with(columns)


_SQLITE_ARRIVALS = {
    (window, since): _sqlite_arrival(window, since) for window in (False, True) for since in (False, True)
}


def _postgres_arrival() -> Select[Any]:
    """The member, locked, then ``punchcard_member_state`` (migration 0009) on the locked row, and the ids of
    ``Reserved``.

    A PostgreSQL statement reads other tables as of its start, while ``FOR NO KEY UPDATE`` waits for the member and
    returns their newest row: balances, debt and credits read beside the lock would predate the event it waited for
    (decisions, issue 9 entry 20). The lock is a MATERIALIZED CTE, so the function runs on the row it returns, after
    the wait, and being VOLATILE it reads with a snapshot of its own, taken then. Tier credits are read for a window
    (``:until`` not null) and a member who can still rise."""
    locked = members.locked_with(lambda _: ()).cte("locked").prefix_with("MATERIALIZED")
    member = aliased(Member, locked)
    moment = DateTime(timezone=True)
    until = _unless_at_the_top(member, bindparam("until", type_=moment))
    state = func.punchcard_member_state(
        member.id, bindparam("at", type_=moment), bindparam("since", type_=moment), until
    ).table_valued("to_vest", "to_expire", "available", "pending", "opened", "unbacked", "credits")
    return (
        select(
            member,
            *_recorded(),
            state.c.to_vest,
            state.c.to_expire,
            state.c.unbacked,  # the debt line
            state.c.available,
            state.c.pending,
            state.c.opened,
            state.c.unbacked,
            state.c.credits,
            func.nextval(func.pg_get_serial_sequence(Event.__tablename__, "id")),
            ledger.lot_id_column(),
        )
        .select_from(locked)
        .join(state, true())
        .execution_options(populate_existing=True)
    )


_POSTGRES_ARRIVAL = _postgres_arrival()
"""Statements built once (docs/performance.md, finding 14)."""


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
    in ``top_tier`` out of grace), all as they are once the lock is held."""
    since, until = window if window is not None else (None, None)
    parameters = {"program_id": program_id, "member_id": member_id, "event_id": event_id, "order_id": order_id}
    parameters |= {"at": at, "since": since, "until": until, "top_tier": top_tier}
    postgres = is_postgres(session)
    statement = _POSTGRES_ARRIVAL if postgres else _SQLITE_ARRIVALS[window is not None, since is not None]
    row = session.execute(statement, parameters).one_or_none()
    if row is None:
        return Arrival(None, recorded=False, order_recorded=False, due=Due.NOTHING)
    balances, credits = ledger.balances_from(row[6:10]), row[10]
    known = Known(balances) if credits is None or window is None else Known(balances, window, int(credits))
    reserved = Reserved(int(row[11]), int(row[12])) if postgres else None
    return Arrival(row[0], bool(row[1]), bool(row[2]), due_from(*row[3:6]), known, reserved)


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


def purchases_between(session: Session, program_id: int, since: datetime, until: datetime, limit: int) -> list[Order]:
    """The program's latest ``limit`` orders made in ``[since, until)``, newest first."""
    query = (
        select(Order)
        .where(Order.program_id == program_id, Order.occurred_at >= since, Order.occurred_at < until)
        .order_by(Order.occurred_at.desc(), Order.id.desc())
        .limit(limit)
    )
    return list(session.execute(query).scalars())


def count_purchases_between(session: Session, program_id: int, since: datetime, until: datetime) -> int:
    query = select(func.count()).where(
        Order.program_id == program_id, Order.occurred_at >= since, Order.occurred_at < until
    )
    return int(session.execute(query).scalar_one())


def orders_since(session: Session, member_id: int, since: datetime | None) -> Sequence[Order]:
    """The member's orders from ``since`` on (all of them if ``None``), oldest first."""
    query = select(Order).where(Order.member_id == member_id).order_by(Order.occurred_at)
    if since is not None:
        query = query.where(Order.occurred_at >= since)
    return session.execute(query).scalars().all()
