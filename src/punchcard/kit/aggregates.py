"""Aggregates that read a parent row and its children in one statement, the same SQL text on SQLite and PostgreSQL.

A read of one member with their expiring points (a handful of rows) would otherwise be two round trips, or a join that
repeats the member's row and every scalar subquery beside it for each child. ``json_rows`` folds the children into one
JSON value: ``json_agg`` on PostgreSQL, ``json_group_array`` on SQLite.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement


class json_rows(FunctionElement[Any]):  # noqa: N801 - used like the SQL function it is
    """The rows of its arguments (a derived table's columns) as a JSON array of arrays; ``None`` or ``[]`` when there
    are none. Their order is not kept: sort them where they are read. Timestamps come back as text
    (``moment_of``)."""

    type = JSON()
    inherit_cache = True
    name = "json_rows"


@compiles(json_rows, "postgresql")
def _json_agg(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_agg(json_build_array({compiler.process(element.clauses, **kw)}))"


@compiles(json_rows, "sqlite")
def _json_group_array(element: json_rows, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_group_array(json_array({compiler.process(element.clauses, **kw)}))"


def moment_of(text: str) -> datetime:
    """A timestamp as ``json_rows`` gives it: ISO 8601 with an offset from PostgreSQL, naive UTC from SQLite (as
    ``kit.db.UtcDateTime`` stores it there)."""
    moment = datetime.fromisoformat(text)
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
