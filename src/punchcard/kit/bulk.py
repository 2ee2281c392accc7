"""Set-wise reads and writes of any table, for the features' ``bulk`` modules (the importer's reads and writes of
thousands of rows at once): ``IN`` lists in chunks, plain SQL on PostgreSQL with array parameters, COPY on PostgreSQL
and multi-row inserts on SQLite, ids reserved ahead of the rows. Table-agnostic: it knows no feature's tables."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

import orjson
from psycopg.rows import namedtuple_row
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from punchcard.kit.db import is_postgres

CHUNK = 1000
"""Values per ``IN (...)`` list: well inside both databases' limits on bound parameters."""


T = TypeVar("T")


def chunks(values: Sequence[T]) -> Iterable[Sequence[T]]:
    """``values`` in slices of ``CHUNK``, one ``IN (...)`` list each."""
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def pg_rows(
    session: Session, query: str, parameters: Sequence[Any] | dict[str, Any], *, fetch: bool = True
) -> list[Any]:
    """Rows of a plain SQL query on the session's PostgreSQL connection, with attribute access (``row.id``): one
    array parameter instead of a thousand bound values per ``IN`` list, and no ORM result processing. Times come
    back in UTC (``SET LOCAL TIME ZONE``), as ``UtcDateTime`` gives them."""
    driver = session.connection().connection.driver_connection
    with driver.cursor(row_factory=namedtuple_row) as cursor:  # type: ignore[union-attr]
        if fetch:  # a statement that returns nothing needs no zone: one round trip less
            cursor.execute("SET LOCAL TIME ZONE 'UTC'")
        cursor.execute(query, parameters)
        rows: list[Any] = cursor.fetchall() if fetch else []
        return rows


def analyze(session: Session, tables: Sequence[str]) -> None:
    """Refresh PostgreSQL's statistics of ``tables``, so lookups keep using the indexes as the tables grow (a plan
    made when a table was nearly empty scans it whole, which gets slower with every batch)."""
    if is_postgres(session) and tables:
        session.execute(text(f"ANALYZE {', '.join(tables)}"))


def reserve_ids(session: Session, table: Table, count: int, *, after: int = 0) -> list[int]:
    """``count`` ids for new rows of ``table``: from its sequence on PostgreSQL; on SQLite, above the largest id and
    above ``after`` (the last id this batch already reserved: the batch holds the database's write lock, and SQLite
    gives new rows the largest id plus one)."""
    if count == 0:
        return []
    if is_postgres(session):
        query = text(f"SELECT nextval(pg_get_serial_sequence('{table.name}', 'id')) FROM generate_series(1, :count)")
        return [int(value) for value in session.execute(query, {"count": count}).scalars()]
    largest = max(int(session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()), after)
    return list(range(largest + 1, largest + 1 + count))


def id_stream(session: Session, table: Table, expected: int) -> Iterator[int]:
    """Ids for new rows of ``table``, ``expected`` reserved at once and more as a batch needs them (a mechanic may
    open more than one lot for an order)."""
    count, last = max(expected, 1), 0
    while True:
        reserved = reserve_ids(session, table, count, after=last)
        yield from reserved
        last, count = reserved[-1], max(expected // 4, 16)


def insert_rows(session: Session, table: Table, records: list[dict[str, Any]]) -> None:
    """Insert ``records`` (dicts with the same keys, in the same order) into ``table``: COPY on PostgreSQL, one
    executemany ``INSERT`` on SQLite. Nothing to do for no records."""
    if not records:
        return
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
    """``text`` as a COPY field: backslash, newline, carriage return and tab escaped (``isprintable`` is false for
    the last three, and rules out most text in one call)."""
    return text if text.isprintable() and "\\" not in text else text.translate(_ESCAPES)


def _copy_datetime(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("naive datetime given to a UTC column")
    return value.isoformat()


def _copy_json(value: object) -> str:
    """JSON by orjson: an import writes a payload and a response per order, and ``json.dumps`` was a sixth of the
    writer's time."""
    return _copy_str(orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode())


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
    ``timestamptz``), JSON (``_copy_json``), and backslash, tab and line breaks escaped. Dispatched on the
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
