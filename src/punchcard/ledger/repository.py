"""Queries over lots, entries and the members' account rows.

Balances are read from ``ledger_accounts`` (the posted totals the database keeps with every entry and lot it
inserts: ``ledger.models``), so a balance is one indexed lookup however long the member's history.
``punchcard ledger verify`` and ``tests/invariants`` check after every step that they equal the sums of the entries
and lots.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    BindParameter,
    Integer,
    ScalarSelect,
    Select,
    bindparam,
    case,
    exists,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.orm import Session

from punchcard.kit.aggregates import json_rows, moment_of
from punchcard.ledger.domain import POINT_ASSETS, Account, Balances, EntryKind, LotView, OpenLot
from punchcard.ledger.models import LedgerAccount, LedgerEntry, Lot

MEMBER: BindParameter[int] = bindparam("member_id", type_=Integer)
"""The member a prebuilt statement is about. The hot paths run statements built once at import: building and
cache-keying a statement costs more Python than running it (docs/performance.md, finding 14)."""


def _debt_line(member_id: Any) -> ScalarSelect[Any]:
    """The member's lot-less ``points`` legs (negative while they owe points), from their ``points`` account row: a
    scalar subquery; ``member_id`` may be a column to correlate with."""
    return (
        select(func.coalesce(func.sum(LedgerAccount.unbacked), 0))
        .where(LedgerAccount.member_id == member_id, LedgerAccount.account == Account.POINTS.value)
        .scalar_subquery()
    )


def _credits_in_window(member_id: Any, *, since: bool) -> Select[Any]:
    """The member's tier credits that occurred in ``[:since, :until]`` (from the beginning without ``since``);
    ``member_id`` may be a column to correlate with."""
    query = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.member_id == member_id,
        LedgerEntry.account == Account.TIER_CREDITS.value,
        LedgerEntry.occurred_at <= bindparam("until"),
    )
    return query.where(LedgerEntry.occurred_at >= bindparam("since")) if since else query


_CREDITS_IN_WINDOW = {with_since: _credits_in_window(MEMBER, since=with_since) for with_since in (False, True)}


def _window(member_id: int, since: datetime | None, until: datetime) -> dict[str, Any]:
    return {"member_id": member_id, "until": until, **({"since": since} if since is not None else {})}


def _total(column: Any, account: Account) -> Any:
    return func.coalesce(func.sum(case((LedgerAccount.account == account.value, column), else_=0)), 0)


_BALANCE_COLUMNS = (
    _total(LedgerAccount.balance, Account.POINTS),
    _total(LedgerAccount.balance, Account.PENDING_POINTS),
    func.coalesce(func.sum(LedgerAccount.opened), 0),
    _total(LedgerAccount.unbacked, Account.POINTS),
)
_BALANCES = select(*_BALANCE_COLUMNS).where(LedgerAccount.member_id == MEMBER)
_BALANCES_AND_CREDITS = {
    with_since: select(*_BALANCE_COLUMNS, credits.scalar_subquery()).where(LedgerAccount.member_id == MEMBER)
    for with_since, credits in _CREDITS_IN_WINDOW.items()
}


def balance_columns(member_id: Any) -> tuple[ScalarSelect[Any], ...]:
    """The member's balances (``balances_from``) as scalar subqueries correlated with ``member_id``, for a caller's
    own first query (``event.repository.arrival``), so that an operation's later reads of them cost no round trip
    (``ledger.account.Known``)."""

    def total(column: Any, account: Account | None) -> ScalarSelect[Any]:
        query = select(func.coalesce(func.sum(column), 0)).where(LedgerAccount.member_id == member_id)
        return (query.where(LedgerAccount.account == account.value) if account else query).scalar_subquery()

    return (
        total(LedgerAccount.balance, Account.POINTS),
        total(LedgerAccount.balance, Account.PENDING_POINTS),
        total(LedgerAccount.opened, None),
        total(LedgerAccount.unbacked, Account.POINTS),
    )


def credits_column(member_id: Any, *, since: bool) -> ScalarSelect[Any]:
    """``tier_credits`` in ``[:since, :until]`` as a scalar subquery correlated with ``member_id`` (see
    ``balance_columns``)."""
    return _credits_in_window(member_id, since=since).scalar_subquery()


def balances_from(values: Sequence[Any]) -> Balances:
    """``Balances`` from the values of ``balance_columns``."""
    return _found(values)


def balances(session: Session, member_id: int) -> Balances:
    """Available and pending points, lifetime earnings and debt: the member's account rows, one indexed lookup.

    ``points`` holds what is available net of debt (its lot-less legs are the debt line), ``pending_points`` what
    waits for the return window; every lot was opened by the entries that earned it, and ``opened`` sums them."""
    return _found(session.connection().execute(_BALANCES, {"member_id": member_id}).one())


def balances_and_credits(
    session: Session, member_id: int, since: datetime | None, until: datetime
) -> tuple[Balances, int]:
    """``balances`` and ``tier_credits(since, until)`` (what the tier counts) in one round trip."""
    statement = _BALANCES_AND_CREDITS[since is not None]
    row = session.connection().execute(statement, _window(member_id, since, until)).one()
    return _found(row), int(row[4])


def _found(row: Sequence[Any]) -> Balances:
    return Balances(available=int(row[0]), pending=int(row[1]), lifetime_earned=int(row[2]), debt=-int(row[3]))


def debt(session: Session, member_id: int) -> int:
    """Points the member owes (0 when none)."""
    return -int(session.execute(select(_debt_line(member_id))).scalar_one())


@dataclass(frozen=True)
class Due:
    """What settling a member at a moment has to do: lots to vest or expire, and the debt to repay."""

    vest: bool
    expire: bool
    debt: int

    NOTHING: ClassVar[Due]

    @property
    def anything(self) -> bool:
        return self.vest or self.expire or self.debt > 0


Due.NOTHING = Due(vest=False, expire=False, debt=0)


def due_columns(member_id: Any, at: Any) -> tuple[Any, Any, Any]:
    """Whether the member has lots to vest or to expire at ``at``, and their debt line: columns for ``due`` or for a
    caller's own first query (``member_id`` may be the member's id column, to correlate with). A lot that is still
    pending counts as expiring too (it vests first, then expires in the same settlement)."""
    # ``is_pending`` itself, not ``IS true``: only the former lets PostgreSQL use the partial index ``ix_lots_pending``
    # (otherwise it reads every lot of the member).
    to_vest = exists().where(Lot.member_id == member_id, Lot.is_pending, Lot.available_at <= at)
    to_expire = exists().where(Lot.member_id == member_id, Lot.remaining > 0, Lot.expires_at <= at)
    return to_vest, to_expire, _debt_line(member_id)


def due_from(vest: Any, expire: Any, debt_line: Any) -> Due:
    """``Due`` from the values of ``due_columns``."""
    return Due(vest=bool(vest), expire=bool(expire), debt=-int(debt_line))


_DUE = select(*due_columns(MEMBER, bindparam("at", type_=Lot.expires_at.type)))


def due(session: Session, member_id: int, at: datetime) -> Due:
    """One query telling ``ledger.service.settle_member`` which of its steps have anything to do at ``at``."""
    return due_from(*session.connection().execute(_DUE, {"member_id": member_id, "at": at}).one())


def spendable_lots(session: Session, member_id: int, now: datetime) -> list[LotView]:
    """Available lots with points left that have not expired at ``now``, locked against the expiry job."""
    rows = session.execute(
        select(Lot.id, Lot.remaining, Lot.expires_at)
        .where(
            Lot.member_id == member_id,
            Lot.remaining > 0,
            Lot.is_pending.is_(False),
            (Lot.expires_at.is_(None)) | (Lot.expires_at > now),
        )
        .order_by(Lot.id)
        .with_for_update()
    ).all()
    return [LotView(row.id, row.remaining, row.expires_at) for row in rows]


def open_lots(session: Session, member_id: int) -> list[OpenLot]:
    """The member's lots that settling may change (points left, or pending), locked, in id order: what
    ``ledger.domain.settle`` decides on. ``ix_lots_member_expiring`` and ``ix_lots_pending`` find them."""
    rows = session.execute(
        select(Lot.id, Lot.remaining, Lot.expires_at, Lot.is_pending, Lot.available_at)
        .where(Lot.member_id == member_id, (Lot.remaining > 0) | Lot.is_pending)
        .order_by(Lot.id)
        .with_for_update()
    ).all()
    return [OpenLot(row.id, row.remaining, row.expires_at, row.is_pending, row.available_at) for row in rows]


def make_available(session: Session, lot_ids: Sequence[int]) -> None:
    """Pending lots whose return window closed (the entries that move their points are written by the caller)."""
    if lot_ids:
        session.execute(update(Lot).where(Lot.id.in_(list(lot_ids))).values(is_pending=False))


_OPEN_LOT = insert(Lot).returning(Lot.id)


def open_lot(session: Session, **values: Any) -> int:
    """Insert a lot (``ledger.service.open_credit``; the account writes the entries that explain it) and return its
    id."""
    return int(session.connection().execute(_OPEN_LOT, values).scalar_one())


_INSERT_LOTS = insert(Lot).inline()  # their ids were reserved: nothing to return, so they may go out with other writes


def insert_lots(session: Session, rows: Sequence[dict[str, object]]) -> None:
    """Insert lots whose ids were reserved (``lot_id_column``)."""
    if rows:
        session.connection().execute(_INSERT_LOTS, list(rows))


def lot_id_column() -> Any:
    """A new lot id taken from the lots' sequence (PostgreSQL), as a column of a caller's first query: the lot can
    then be inserted among the operation's last writes, with no round trip of its own to learn its id."""
    return func.nextval(func.pg_get_serial_sequence(Lot.__tablename__, "id"))


def lock_lot(session: Session, lot_id: int) -> Lot:
    query = select(Lot).where(Lot.id == lot_id).with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one()


def take_from_lot(session: Session, lot_id: int, points: int) -> None:
    """Relative update: the CHECK constraint refuses it if it would go below zero."""
    session.execute(update(Lot).where(Lot.id == lot_id).values(remaining=Lot.remaining - points))


EXPIRING_SHOWN = 5
"""How many expiry moments a member read shows."""


def _soonest(member_id: Any) -> Select[datetime | None, int]:
    """The member's points by expiry moment after ``:now``, soonest first."""
    return (
        select(Lot.expires_at, func.sum(Lot.remaining).label("points"))
        .where(Lot.member_id == member_id, Lot.remaining > 0, Lot.expires_at > bindparam("now"))
        .group_by(Lot.expires_at)
        .order_by(Lot.expires_at)
    )


_EXPIRING = _soonest(MEMBER).limit(bindparam("limit", type_=Integer))


def expiring(
    session: Session, member_id: int, now: datetime, limit: int = EXPIRING_SHOWN
) -> list[tuple[datetime, int]]:
    """The member's points by expiry moment, soonest first (the next ``limit`` moments after ``now``)."""
    parameters = {"member_id": member_id, "now": now, "limit": limit}
    rows = session.connection().execute(_EXPIRING, parameters).all()
    return [(moment, int(points)) for moment, points in rows if moment is not None]


def expiring_column(member_id: Any) -> ScalarSelect[Any]:
    """``expiring`` (the first ``EXPIRING_SHOWN`` moments after ``:now``) as one value, a scalar subquery correlated
    with ``member_id`` (a column), for a member read in one statement; ``expiring_from`` reads it."""
    soonest = _soonest(member_id).limit(EXPIRING_SHOWN).correlate(member_id.table).subquery()
    return select(json_rows(soonest.c.expires_at, soonest.c.points)).scalar_subquery()


def expiring_from(value: list[list[Any]] | None) -> list[tuple[datetime, int]]:
    """The value of ``expiring_column`` as ``expiring`` returns it."""
    return sorted((moment_of(moment), int(points)) for moment, points in value or [])


def tier_credits(session: Session, member_id: int, since: datetime | None, until: datetime) -> int:
    """The member's tier credits counting only entries that occurred in ``[since, until]``."""
    statement = _CREDITS_IN_WINDOW[since is not None]
    return int(session.connection().execute(statement, _window(member_id, since, until)).scalar_one())


def firing_count(session: Session, member_id: int, rule_code: str, since: datetime | None, until: datetime) -> int:
    """How many times a rule awarded points in ``[since, until]``: each firing credits its own lot."""
    query = select(func.count(func.distinct(LedgerEntry.lot_id))).where(
        LedgerEntry.member_id == member_id,
        LedgerEntry.rule_code == rule_code,
        LedgerEntry.kind == EntryKind.EARN.value,
        LedgerEntry.occurred_at <= until,
    )
    if since is not None:
        query = query.where(LedgerEntry.occurred_at >= since)
    return int(session.execute(query).scalar_one())


def history(session: Session, member_id: int, before_id: int | None, limit: int) -> Sequence[LedgerEntry]:
    """The member's points and tier-credit entries, newest first, from just below ``before_id`` (keyset pagination);
    their money has a history of its own (``ledger.money``)."""
    query = select(LedgerEntry).where(LedgerEntry.member_id == member_id, LedgerEntry.asset.in_(POINT_ASSETS))
    if before_id is not None:
        query = query.where(LedgerEntry.id < before_id)
    return session.execute(query.order_by(LedgerEntry.id.desc()).limit(limit)).scalars().all()


def debtors(session: Session, program_id: int) -> list[int]:
    """The program's members who owe points (a negative debt line), in id order, from their stored account rows."""
    query = (
        select(LedgerAccount.member_id)
        .where(
            LedgerAccount.program_id == program_id,
            LedgerAccount.account == Account.POINTS.value,
            LedgerAccount.unbacked < 0,
        )
        .order_by(LedgerAccount.member_id)
    )
    return list(session.execute(query).scalars())
