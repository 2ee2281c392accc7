"""Scheduled settlement written set-wise: vesting and expiring a batch of lots in the database, without the rows
coming to Python.

A batch is claimed, its entries are written with ``INSERT … SELECT`` from the claimed lots and the lots are updated,
all in the caller's transaction:

- on PostgreSQL in one statement: a ``SELECT … FOR UPDATE SKIP LOCKED`` claim, an ``UPDATE … RETURNING`` of the
  claimed lots (with the values read under the lock) and the ``INSERT`` of their entries, as data-modifying CTEs. Two
  runs at once claim disjoint batches; the claim filters on the state the batch changes, so nothing is done twice;
- on SQLite (no ``SKIP LOCKED``, no data-modifying CTEs) in two statements, ``INSERT … SELECT`` then ``UPDATE`` over
  the same claim query: the transaction holds the database's write lock from ``BEGIN IMMEDIATE``, so both statements
  see the same lots.

Program-wide vesting follows ``ix_lots_pending`` (``(program_id, available_at)`` over pending lots) in
``(available_at, id)`` order, and a ``Cursor`` continues each batch after the previous one's last key, so no batch walks
over the lots earlier batches settled. The nightly expiry walks ranges of lot ids in id order (``expiry_ranges`` says
why); without a range it follows ``ix_lots_expiring`` in ``(expires_at, id)`` order like vesting. A batch is one
transfer: its lots' legs, and for an expiry the program's breakage legs per expiry moment. Settling one member before
an operation is not done here but by the one settlement rule (``ledger.domain.settle``); these batches give the same
answers (``tests/invariants/test_settlement_rule.py``). A batch's ``Posting`` names no member (its ``member_id`` is
unused): each entry belongs to its own lot's member.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Table,
    Uuid,
    and_,
    func,
    insert,
    literal,
    literal_column,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session

from punchcard.kit.db import UtcDateTime
from punchcard.ledger.domain import Account, Asset, EntryKind, PointsExpired
from punchcard.ledger.models import LedgerEntry, Lot
from punchcard.ledger.posting import EXPIRED, VESTED, Posting, counter_legs, new_transfer_id
from punchcard.member import service as members
from punchcard.outbox import service as outbox

LOTS = cast(Table, Lot.__table__)
ENTRIES = cast(Table, LedgerEntry.__table__)


@dataclass
class Cursor:
    """Where a worker's program-wide batches got to along the index: the last (date, lot id) it settled."""

    after: tuple[datetime, int] | None = None


@dataclass
class IdRange:
    """A worker's share of a program-wide expiry: lot ids after ``after_id`` up to ``up_to_id``, walked in id order;
    ``after_id`` moves past each batch."""

    after_id: int
    up_to_id: int

    @classmethod
    def split(cls, low: int, high: int, parts: int) -> list[IdRange]:
        """Ids ``low..high`` cut into ``parts`` consecutive ranges (fewer when there are fewer ids)."""
        step = (high - low) // parts + 1
        return [cls(low - 1 + step * part, min(low - 1 + step * (part + 1), high)) for part in range(parts)]


def _key_after(date: Any, after: tuple[datetime, int] | None) -> list[ColumnElement[bool]]:
    """Lots after ``after`` in (date, id) order; ``date >= …`` alone is what the index range starts from."""
    if after is None:
        return []
    moment, lot_id = after
    return [date >= moment, or_(date > moment, and_(date == moment, LOTS.c.id > lot_id))]


def _claim(
    conditions: list[ColumnElement[bool]],
    date: Any,
    *,
    cursor: Cursor | None,
    limit: int,
    within: IdRange | None = None,
) -> Select[Any]:
    columns = (LOTS.c.id, LOTS.c.member_id, LOTS.c.remaining, date.label("date"))
    if within is not None:
        in_range = (LOTS.c.id > within.after_id, LOTS.c.id <= within.up_to_id)
        return select(*columns).where(*conditions, *in_range).order_by(LOTS.c.id).limit(limit)
    after = cursor.after if cursor is not None else None
    return select(*columns).where(*conditions, *_key_after(date, after)).order_by(date, LOTS.c.id).limit(limit)


def _entry_columns(
    posting: Posting,
    source: Any,
    *,
    account: Any,
    kind: EntryKind,
    amount: Any,
    occurred_at: Any,
    description: str,
    transfer_id: uuid.UUID,
) -> list[Any]:
    """The SELECT list for ``ENTRY_COLUMNS`` from a claimed lot (``source`` has id, member_id, remaining, date)."""
    return [
        literal(posting.program_id, Integer),
        source.c.member_id,
        account,
        literal(Asset.POINTS.value),
        literal(kind.value),
        amount,
        literal(transfer_id, Uuid()),
        occurred_at,
        literal(posting.recorded_at, UtcDateTime()),
        literal(posting.program_version, Integer),
        source.c.id,
        literal(posting.event_id, Integer) if posting.event_id is not None else null(),
        literal(posting.order_id) if posting.order_id is not None else null(),
        null(),
        null(),
        literal(posting.operation) if posting.operation is not None else null(),
        literal(description),
    ]


ENTRY_COLUMNS = [
    "program_id",
    "member_id",
    "account",
    "asset",
    "kind",
    "amount",
    "transfer_id",
    "occurred_at",
    "recorded_at",
    "program_version",
    "lot_id",
    "event_id",
    "order_id",
    "rule_code",
    "reference_entry_id",
    "operation",
    "description",
]


@dataclass(frozen=True)
class Settled:
    """The lots of one member that a batch settled at one date (their expiry, or when they vested)."""

    member_id: int
    date: datetime
    points: int
    lots: int
    last_id: int


def _run(
    session: Session,
    claim: Select[Any],
    *,
    change: dict[str, Any],
    entries: Any,
    cursor: Cursor | None,
    within: IdRange | None = None,
    events: Any = None,
) -> list[Settled]:
    """Claim, write the entries ``entries(source)`` builds from the claimed lots (and the outbox rows ``events(totals)``
    builds from their totals per member and date, if given), change the lots; return those totals, and move
    ``cursor`` or ``within`` past the batch."""
    if session.get_bind().dialect.name == "postgresql":
        # The batch's members are locked with its lots (skipping members a request holds): the entries' trigger
        # updates their account rows, which a request holding the member may also be writing.
        due = members.claiming(claim, LOTS.c.member_id, LOTS).cte("due")
        changed = (
            update(LOTS)
            .where(LOTS.c.id == due.c.id)
            .values(**change)
            .returning(due.c.id, due.c.member_id, due.c.remaining, due.c.date)
            .cte("changed")
        )
        written = insert(ENTRIES).from_select(ENTRY_COLUMNS, entries(changed)).cte("written")
        totals: Any = _by_member_and_date(changed).cte("totals")
        told = [] if events is None else [outbox.insert_selected(events(totals)).cte("told")]
        rows = session.execute(select(totals).add_cte(written, *told)).all()
    else:
        # SQLite: the write lock taken at BEGIN IMMEDIATE makes the claim query give the same lots every time.
        session.execute(insert(ENTRIES).from_select(ENTRY_COLUMNS, entries(claim.subquery("due"))))
        totals = _by_member_and_date(claim.subquery("claimed")).subquery("totals")
        if events is not None:
            session.execute(outbox.insert_selected(events(totals)))
        rows = session.execute(select(totals)).all()
        session.execute(update(LOTS).where(LOTS.c.id.in_(select(claim.subquery("ids").c.id))).values(**change))
    groups = [Settled(row[0], row[1], int(row[2]), int(row[3]), int(row[4])) for row in rows]
    if groups:
        last = max(groups, key=(lambda g: g.last_id) if within is not None else (lambda g: (g.date, g.last_id)))
        _advance(cursor, within, last.date, last.last_id)
    return groups


def _by_member_and_date(lots: Any) -> Select[Any]:
    return select(
        lots.c.member_id,
        lots.c.date,
        func.sum(lots.c.remaining).label("points"),
        func.count().label("lots"),
        func.max(lots.c.id).label("last_id"),
    ).group_by(lots.c.member_id, lots.c.date)


def _advance(cursor: Cursor | None, within: IdRange | None, date: datetime, lot_id: int) -> None:
    if cursor is not None:
        cursor.after = (date, lot_id)
    if within is not None:
        within.after_id = lot_id


def expire(
    session: Session,
    posting: Posting,
    *,
    at: datetime,
    limit: int,
    cursor: Cursor | None = None,
    within: IdRange | None = None,
    member_id: int | None = None,
) -> int:
    """Expire a batch of available lots with points left whose expiry is at or before ``at``: one ``expire`` entry
    per lot for what it had left, dated at the lot's own expiry; the lot keeps nothing. Returns how many lots.

    The program's lots go in id order inside ``within`` (what the nightly job does, see ``expiry_ranges``) or else in
    (expiry, id) order along ``ix_lots_expiring``, after ``cursor``; only ``member_id``'s lots when it is given.
    """
    date = LOTS.c.expires_at
    conditions = [*_expiring(posting.program_id, at), *_of_member(member_id)]
    claim = _claim(conditions, date, cursor=cursor, limit=limit, within=within)

    transfer_id = new_transfer_id()  # the batch is one transfer: its lots' legs, and breakage's per expiry moment

    def entries(source: Any) -> Select[Any]:
        columns = _entry_columns(
            posting,
            source,
            account=literal(Account.POINTS.value),
            kind=EntryKind.EXPIRE,
            amount=-source.c.remaining,
            occurred_at=source.c.date,
            description=EXPIRED,
            transfer_id=transfer_id,
        )
        by_id = within is not None
        return select(*columns).order_by(*([source.c.id] if by_id else [source.c.date, source.c.id]))

    def events(totals: Any) -> Select[Any]:
        """A ``points.expired`` per member and expiry moment, built in the database like the entries."""
        columns = outbox.selected(
            session.get_bind().dialect.name,
            PointsExpired,
            program_id=posting.program_id,
            member_id=totals.c.member_id,
            occurred_at=totals.c.date,
            recorded_at=posting.recorded_at,
            payload={"points": totals.c.points, "lots": totals.c.lots},
        )
        return select(*columns).order_by(totals.c.member_id, totals.c.date)

    settled = _run(
        session, claim, change={"remaining": 0}, entries=entries, cursor=cursor, within=within, events=events
    )
    _to_breakage(session, posting, settled, transfer_id)
    if settled:
        outbox.wrote(session)
    return sum(group.lots for group in settled)


def _to_breakage(session: Session, posting: Posting, settled: list[Settled], transfer_id: uuid.UUID) -> None:
    """The program's legs of an expiry batch: what expired at each moment, into ``program:breakage``."""
    template = posting.entry(Account.POINTS, EntryKind.EXPIRE, 0, description=EXPIRED)
    moves = [(Asset.POINTS.value, EntryKind.EXPIRE.value, group.date, -group.points) for group in settled]
    legs = counter_legs(template, moves, transfer_id)
    if legs:
        session.execute(insert(ENTRIES), legs)


def _expiring(program_id: int, at: datetime) -> list[ColumnElement[bool]]:
    return [
        LOTS.c.program_id == program_id,
        LOTS.c.remaining > literal_column("0"),  # a literal, so PostgreSQL matches the partial index's predicate
        LOTS.c.is_pending.is_(False),
        LOTS.c.expires_at <= at,
    ]


def _vesting(program_id: int, at: datetime) -> list[ColumnElement[bool]]:
    # ``is_pending`` itself, not ``is_pending IS true``: PostgreSQL proves the partial index's predicate only from the
    # former, and otherwise scans the whole lots table for every batch (1–2 s at 10 M lots, even with nothing pending).
    return [LOTS.c.program_id == program_id, LOTS.c.is_pending, LOTS.c.available_at <= at]


def _of_member(member_id: int | None) -> list[ColumnElement[bool]]:
    return [] if member_id is None else [LOTS.c.member_id == member_id]


def members_due(session: Session, program_id: int, at: datetime, *, expiring: bool, limit: int) -> list[int]:
    """Up to ``limit`` members with lots still due at ``at``: to expire (``expiring``) or else to vest.

    After the program-wide walks this finds what they skipped because another transaction held the lot's member at
    that moment (a request, or a batch settling another of the member's lots): usually nothing, found along the same
    partial index the walks use.
    """
    conditions = _expiring(program_id, at) if expiring else _vesting(program_id, at)
    query = select(LOTS.c.member_id).where(*conditions).distinct().limit(limit)
    return [int(member_id) for member_id in session.execute(query).scalars()]


def expiry_ranges(session: Session, program_id: int, at: datetime, parts: int) -> list[IdRange]:
    """The ids of the program's lots due to expire at ``at``, cut into ``parts`` consecutive ranges.

    The nightly expiry walks these in id order rather than in expiry order: lots due on one day belong to members all
    over the tables, so in expiry order every lot's update and entry land on a different page of the lots table and of
    the member-keyed indexes (far larger than ``shared_buffers``), each written to the WAL as a full page after every
    checkpoint. In id order (the order lots were written, hence of members' lots and of pages) each page is changed
    once, by consecutive lots.

    A first look along ``ix_lots_expiring`` says whether anything is due at all: when nothing is (a second run, or
    the scheduler of ``serve``), the min/max below would otherwise walk the whole primary key in vain, since the
    planner's statistics still expect the share of due lots the last ``ANALYZE`` saw. That look also steps over (and
    marks dead) the index entries of lots the previous run expired, once.
    """
    conditions = _expiring(program_id, at)
    probe = select(LOTS.c.id).where(*conditions).order_by(LOTS.c.expires_at).limit(1)
    if session.execute(probe).first() is None:
        return []
    low, high = session.execute(select(func.min(LOTS.c.id), func.max(LOTS.c.id)).where(*conditions)).one()
    if low is None:
        return []
    return IdRange.split(low, high, parts)


def vest(
    session: Session,
    posting: Posting,
    *,
    at: datetime,
    limit: int,
    cursor: Cursor | None = None,
    member_id: int | None = None,
) -> int:
    """Make a batch of pending lots whose return window closed by ``at`` available: per lot with points left, its
    remaining points leave ``pending_points`` and enter ``points`` (two entries, in that order). Returns how many
    lots moved. Only ``member_id``'s lots when it is given."""
    date = LOTS.c.available_at
    conditions = [*_vesting(posting.program_id, at), *_of_member(member_id)]
    claim = _claim(conditions, date, cursor=cursor, limit=limit)
    sides = union_all(
        select(
            literal(1, Integer).label("side"),
            literal(Account.PENDING_POINTS.value).label("account"),
            literal(-1, Integer).label("sign"),
        ),
        select(literal(2, Integer), literal(Account.POINTS.value), literal(1, Integer)),
    ).subquery("sides")

    transfer_id = new_transfer_id()  # the batch is one transfer: each lot's two legs balance on the member's accounts

    def entries(source: Any) -> Select[Any]:
        columns = _entry_columns(
            posting,
            source,
            account=sides.c.account,
            kind=EntryKind.VEST,
            amount=sides.c.sign * source.c.remaining,
            occurred_at=literal(posting.occurred_at, UtcDateTime()),
            description=VESTED,
            transfer_id=transfer_id,
        )
        order = [source.c.date, source.c.id]
        return (
            select(*columns)
            .select_from(source.join(sides, literal_column("1") == literal_column("1")))
            .where(source.c.remaining > literal_column("0"))
            .order_by(*order, sides.c.side)
        )

    return sum(
        group.lots for group in _run(session, claim, change={"is_pending": False}, entries=entries, cursor=cursor)
    )
