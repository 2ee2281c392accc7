"""The importer's reads (a batch's members and their ledger state, in a few set-wise queries) and writes (COPY on
PostgreSQL, multi-row inserts on SQLite)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar, cast

from psycopg.rows import namedtuple_row
from sqlalchemy import Row, Table, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from punchcard.event.models import Event, Order
from punchcard.importer.book import Rows
from punchcard.kit.db import is_postgres
from punchcard.ledger.domain import Account, EntryKind
from punchcard.ledger.models import LedgerEntry, Lot
from punchcard.member.models import Member
from punchcard.outbox import service as outbox
from punchcard.tier.models import TierChange

CHUNK = 1000
"""Values per ``IN (...)`` list: well inside both databases' limits on bound parameters."""


T = TypeVar("T")


def _chunks(values: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def _pg(session: Session, query: str, parameters: Sequence[Any] | dict[str, Any], *, fetch: bool = True) -> list[Any]:
    """Rows of a plain SQL query on the session's PostgreSQL connection, with attribute access (``row.id``): one
    array parameter instead of a thousand bound values per ``IN`` list, and no ORM result processing. Times come
    back in UTC (``SET LOCAL TIME ZONE``), as ``UtcDateTime`` gives them."""
    driver = session.connection().connection.driver_connection
    with driver.cursor(row_factory=namedtuple_row) as cursor:  # type: ignore[union-attr]
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")
        cursor.execute(query, parameters)
        rows: list[Any] = cursor.fetchall() if fetch else []
        return rows


def recorded_orders(session: Session, program_id: int, order_ids: Sequence[str]) -> set[str]:
    if is_postgres(session):
        query = "SELECT order_id FROM orders WHERE program_id = %s AND order_id = ANY(%s)"
        return {row[0] for row in _pg(session, query, (program_id, list(order_ids)))}
    found: set[str] = set()
    for chunk in _chunks(order_ids):
        found.update(
            session.execute(
                select(Order.order_id).where(Order.program_id == program_id, Order.order_id.in_(chunk))
            ).scalars()
        )
    return found


def blocked_members(session: Session, program_id: int, external_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in _chunks(external_ids):
        found.update(
            session.execute(
                select(Member.external_id).where(
                    Member.program_id == program_id, Member.external_id.in_(chunk), Member.status == "blocked"
                )
            ).scalars()
        )
    return found


def lock_members(session: Session, program_id: int, external_ids: Sequence[str]) -> list[Row[Any]]:
    """The members that exist, locked (in id order, as every other batch does, so batches never deadlock), with
    ``FOR NO KEY UPDATE`` like every member lock (docs/decisions.md, Performance 18): the nightly jobs' entries for
    these members must not wait for the import."""
    if is_postgres(session):
        query = (
            "SELECT id, external_id, status, enrolled_at, tier_code, tier_since, tier_grace_until, language,"
            " marketing_consent, birth_date, email FROM members WHERE program_id = %s AND external_id = ANY(%s)"
            " ORDER BY id FOR NO KEY UPDATE"
        )
        return _pg(session, query, (program_id, sorted(external_ids)))
    rows: list[Row[Any]] = []
    for chunk in _chunks(sorted(external_ids)):
        rows += session.execute(  # type: ignore[arg-type]
            select(
                Member.id,
                Member.external_id,
                Member.status,
                Member.enrolled_at,
                Member.tier_code,
                Member.tier_since,
                Member.tier_grace_until,
                Member.language,
                Member.marketing_consent,
                Member.birth_date,
                Member.email,
            )
            .where(Member.program_id == program_id, Member.external_id.in_(chunk))
            .order_by(Member.id)
            .with_for_update(key_share=True)
        ).all()
    return rows


def open_lots(session: Session, member_ids: Sequence[int]) -> list[Row[Any]]:
    """Lots with points left or still pending, locked against the scheduled jobs (as ``spendable_lots`` does)."""
    if is_postgres(session):
        query = (
            "SELECT id, member_id, remaining, expires_at, is_pending, available_at FROM lots"
            " WHERE member_id = ANY(%s) AND (remaining > 0 OR is_pending) ORDER BY id FOR UPDATE"
        )
        return _pg(session, query, (sorted(member_ids),))
    rows: list[Row[Any]] = []
    for chunk in _chunks(sorted(member_ids)):
        rows += session.execute(  # type: ignore[arg-type]
            select(Lot.id, Lot.member_id, Lot.remaining, Lot.expires_at, Lot.is_pending, Lot.available_at)
            .where(Lot.member_id.in_(chunk), (Lot.remaining > 0) | Lot.is_pending.is_(True))
            .order_by(Lot.id)
            .with_for_update()
        ).all()
    return rows


def debt_lines(session: Session, member_ids: Sequence[int]) -> dict[int, int]:
    if is_postgres(session):
        query = (
            "SELECT member_id, sum(amount) FROM ledger_entries WHERE member_id = ANY(%s) AND account = %s"
            " AND lot_id IS NULL GROUP BY member_id"
        )
        return {row[0]: int(row[1]) for row in _pg(session, query, (list(member_ids), Account.POINTS.value))}
    found: dict[int, int] = {}
    for chunk in _chunks(member_ids):
        rows = session.execute(
            select(LedgerEntry.member_id, func.sum(LedgerEntry.amount))
            .where(
                LedgerEntry.member_id.in_(chunk),
                LedgerEntry.account == Account.POINTS.value,
                LedgerEntry.lot_id.is_(None),
            )
            .group_by(LedgerEntry.member_id)
        ).all()
        found.update({cast(int, member_id): int(total) for member_id, total in rows})  # member accounts
    return found


def tier_credits(session: Session, member_ids: Sequence[int], since: datetime) -> list[tuple[int, datetime, int]]:
    """Tier credit entries from ``since`` on, and everything earlier as one total per member dated at its earliest
    entry: ``since`` is where the earliest window of the batch starts, so no window counts part of that total (a
    lifetime window counts all of it)."""
    if is_postgres(session):
        query = (
            "SELECT member_id, occurred_at, amount FROM ledger_entries"
            " WHERE member_id = ANY(%(ids)s) AND account = %(account)s AND occurred_at >= %(since)s"
            " UNION ALL SELECT member_id, min(occurred_at), sum(amount) FROM ledger_entries"
            " WHERE member_id = ANY(%(ids)s) AND account = %(account)s AND occurred_at < %(since)s GROUP BY member_id"
        )
        parameters = {"ids": list(member_ids), "account": Account.TIER_CREDITS.value, "since": since}
        return [(row[0], row[1], int(row[2])) for row in _pg(session, query, parameters)]
    found: list[tuple[int, datetime, int]] = []
    for chunk in _chunks(member_ids):
        credits = (LedgerEntry.member_id.in_(chunk), LedgerEntry.account == Account.TIER_CREDITS.value)
        found += [
            (cast(int, row.member_id), row.occurred_at, int(row.amount))
            for row in session.execute(
                select(LedgerEntry.member_id, LedgerEntry.occurred_at, LedgerEntry.amount).where(
                    *credits, LedgerEntry.occurred_at >= since
                )
            )
        ]
        found += [
            (cast(int, member_id), earliest, int(total))
            for member_id, earliest, total in session.execute(
                select(LedgerEntry.member_id, func.min(LedgerEntry.occurred_at), func.sum(LedgerEntry.amount))
                .where(*credits, LedgerEntry.occurred_at < since)
                .group_by(LedgerEntry.member_id)
            )
        ]
    return found


def firings(
    session: Session, member_ids: Sequence[int], rule_codes: Sequence[str]
) -> list[tuple[int, str, datetime, int]]:
    """(member, rule, when, lot) of every earn entry of the limited rules, as ``firing_count`` counts them."""
    if not rule_codes:
        return []
    if is_postgres(session):
        query = (
            "SELECT DISTINCT member_id, rule_code, occurred_at, lot_id FROM ledger_entries"
            " WHERE member_id = ANY(%s) AND rule_code = ANY(%s) AND kind = %s"
        )
        return _pg(session, query, (list(member_ids), list(rule_codes), EntryKind.EARN.value))
    found: list[tuple[int, str, datetime, int]] = []
    for chunk in _chunks(member_ids):
        found += [
            (row.member_id, row.rule_code, row.occurred_at, row.lot_id)
            for row in session.execute(
                select(LedgerEntry.member_id, LedgerEntry.rule_code, LedgerEntry.occurred_at, LedgerEntry.lot_id)
                .where(
                    LedgerEntry.member_id.in_(chunk),
                    LedgerEntry.rule_code.in_(list(rule_codes)),
                    LedgerEntry.kind == EntryKind.EARN.value,
                )
                .distinct()
            )
        ]
    return found


def order_counts(session: Session, member_ids: Sequence[int]) -> dict[int, int]:
    if is_postgres(session):
        query = "SELECT member_id, count(*) FROM orders WHERE member_id = ANY(%s) GROUP BY member_id"
        return {row[0]: int(row[1]) for row in _pg(session, query, (list(member_ids),))}
    found: dict[int, int] = {}
    for chunk in _chunks(member_ids):
        rows = session.execute(
            select(Order.member_id, func.count()).where(Order.member_id.in_(chunk)).group_by(Order.member_id)
        ).all()
        found.update({member_id: int(count) for member_id, count in rows})
    return found


def analyze(session: Session) -> None:
    """Refresh PostgreSQL's statistics of the tables an import fills, so its lookups keep using the indexes (a plan
    made when ``orders`` was nearly empty scans it whole, which gets slower with every batch)."""
    if is_postgres(session):
        session.execute(text("ANALYZE members, events, lots, orders, ledger_entries"))


def reserve_ids(session: Session, table: Table, count: int) -> list[int]:
    """``count`` ids for new rows of ``table``: from its sequence on PostgreSQL; on SQLite, above the largest id (the
    batch holds the database's write lock, and SQLite gives new rows the largest id plus one)."""
    if count == 0:
        return []
    if is_postgres(session):
        query = text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, :count)")
        return [int(value) for value in session.execute(query, {"count": count}).scalars()]
    largest = int(session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one())
    return list(range(largest + 1, largest + 1 + count))


# --- writing -------------------------------------------------------------------------------------------------------

_JSON_COLUMNS = {"response", "lines", "refunded_quantities", "payload"}


def write(session: Session, rows: Rows) -> None:
    """Insert a batch's rows (parents first) and apply its changes to existing lots and members."""
    for table, records in (
        (Member.__table__, rows.members),
        (Event.__table__, rows.events),
        (Lot.__table__, rows.lots),
        (Order.__table__, rows.orders),
        (LedgerEntry.__table__, rows.entries),
        (TierChange.__table__, rows.tier_changes),
        (outbox.TABLE, rows.outbox),
    ):
        if records:
            _insert(session, table, records)  # type: ignore[arg-type]
    if is_postgres(session):
        _update_pg(session, rows)
        return
    # Core statements on the tables (not the ORM classes): an executemany of plain UPDATEs.
    lots, members = Lot.__table__, Member.__table__
    if rows.lot_updates:
        session.execute(
            update(lots)  # type: ignore[arg-type]
            .where(lots.c.id == bindparam("lot_id"))
            .values(remaining=bindparam("remaining"), is_pending=bindparam("is_pending")),
            rows.lot_updates,
        )
    if rows.member_updates:
        session.execute(
            update(members)  # type: ignore[arg-type]
            .where(members.c.id == bindparam("member_id"))
            .values(
                tier_code=bindparam("tier_code"),
                tier_since=bindparam("tier_since"),
                tier_grace_until=bindparam("tier_grace_until"),
            ),
            rows.member_updates,
        )


def _update_pg(session: Session, rows: Rows) -> None:
    """The changes to existing lots and members, one ``UPDATE … FROM unnest(arrays)`` each instead of one statement
    per row."""
    if rows.lot_updates:
        _pg(
            session,
            "UPDATE lots SET remaining = changed.remaining, is_pending = changed.is_pending"
            " FROM unnest(%s::integer[], %s::integer[], %s::boolean[]) AS changed (id, remaining, is_pending)"
            " WHERE lots.id = changed.id",
            (
                [change["lot_id"] for change in rows.lot_updates],
                [change["remaining"] for change in rows.lot_updates],
                [change["is_pending"] for change in rows.lot_updates],
            ),
            fetch=False,
        )
    if rows.member_updates:
        _pg(
            session,
            "UPDATE members SET tier_code = changed.tier_code, tier_since = changed.tier_since,"
            " tier_grace_until = changed.tier_grace_until"
            " FROM unnest(%s::integer[], %s::text[], %s::timestamptz[], %s::timestamptz[])"
            " AS changed (id, tier_code, tier_since, tier_grace_until) WHERE members.id = changed.id",
            (
                [change["member_id"] for change in rows.member_updates],
                [change["tier_code"] for change in rows.member_updates],
                [change["tier_since"] for change in rows.member_updates],
                [change["tier_grace_until"] for change in rows.member_updates],
            ),
            fetch=False,
        )


def _insert(session: Session, table: Table, records: list[dict[str, Any]]) -> None:
    if not is_postgres(session):
        session.execute(insert(table), records)
        return
    # COPY is several times faster than multi-row INSERT for large batches; it runs in the session's transaction.
    # The rows are formatted here as COPY text (faster than psycopg's per-value dumpers) and sent in large chunks.
    columns = list(records[0])
    driver = session.connection().connection.driver_connection
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    formats = dict(_COPY_TEXT)
    times: dict[datetime, str] = {}  # the rows of an order share its time, and every row the batch's ``now``

    def moment(value: datetime) -> str:
        text = times.get(value)
        if text is None:
            text = times[value] = _copy_datetime(value)
        return text

    formats[datetime] = moment
    with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        lines: list[str] = []
        for record in records:
            lines.append("\t".join([formats.get(type(value), _copy_text)(value) for value in record.values()]))
            if len(lines) >= COPY_CHUNK:
                copy.write("\n".join(lines) + "\n")
                lines = []
        if lines:
            copy.write("\n".join(lines) + "\n")


COPY_CHUNK = 2000
"""Rows per write to the COPY stream."""

_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _copy_str(text: str) -> str:
    return text.translate(_ESCAPES) if ("\\" in text or "\n" in text or "\r" in text or "\t" in text) else text


def _copy_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.isoformat()


def _copy_json(value: object) -> str:
    return _copy_str(json.dumps(value))


_COPY_TEXT: dict[type, Callable[[Any], str]] = {
    type(None): lambda _: "\\N",
    bool: lambda value: "t" if value else "f",
    int: str,
    str: _copy_str,
    datetime: _copy_datetime,
    dict: _copy_json,
    list: _copy_json,
    uuid.UUID: str,
}


def _copy_text(value: object) -> str:
    """One value in COPY's text format: ``\\N`` for NULL, ``t``/``f``, ISO 8601 times (with their offset, into
    ``timestamptz``), JSON as ``json.dumps`` writes it, and backslash, tab and line breaks escaped. Dispatched on the
    exact type (the fast path); anything else goes through its ``str``."""
    format_ = _COPY_TEXT.get(type(value))
    if format_ is not None:
        return format_(value)
    if isinstance(value, datetime):
        return _copy_datetime(value)
    if isinstance(value, dict | list):
        return _copy_json(value)
    if isinstance(value, bool | int):
        return _COPY_TEXT[bool if isinstance(value, bool) else int](value)
    return _copy_str(str(value))
