"""Reading the whole database the way the privacy tests check it: which tables are about members (by the schema, not
by a list), a member's rows in each, and every stored text that holds a given value."""

from __future__ import annotations

import json
from collections.abc import Iterable

from sqlalchemy import JSON, Column, ColumnElement, Engine, String, Table, false, func, or_, select
from sqlalchemy.orm import Session

from punchcard.schema import metadata

EXTERNAL_ID = "member_external_id"
"""The column by which a table names a member by their external id (the intake, the shop connectors)."""


def member_columns(table: Table) -> list[Column[object]]:
    """The columns by which ``table`` refers to a member: a foreign key to ``members``, ``member_id`` (a column kept
    without a foreign key), or the member's external id."""
    return [
        column
        for column in table.columns
        if table.name != "members"
        and (
            any(key.column.table.name == "members" for key in column.foreign_keys)
            or column.name in ("member_id", EXTERNAL_ID)
        )
    ]


def about_members() -> list[Table]:
    """Every table that refers to members, and ``members`` itself."""
    return [table for table in metadata.sorted_tables if table.name == "members" or member_columns(table)]


def _of(table: Table, program_id: int, member_id: int, external_id: str) -> ColumnElement[bool]:
    if table.name == "members":
        return table.c.id == member_id
    conditions: list[ColumnElement[bool]] = []
    for column in member_columns(table):
        if column.name == EXTERNAL_ID:
            conditions.append((column == external_id) & (table.c.program_id == program_id))
        else:
            conditions.append(column == member_id)
    return or_(false(), *conditions)


def rows_about(engine: Engine, table: Table, program_id: int, member_id: int, external_id: str) -> int:
    """How many of ``table``'s rows are about the member."""
    with Session(engine) as session:
        query = select(func.count()).select_from(table).where(_of(table, program_id, member_id, external_id))
        return int(session.execute(query).scalar_one())


def found_anywhere(engine: Engine, values: Iterable[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) for every text or JSON column of every table that holds one of ``values`` (any case)."""
    wanted = [value.lower() for value in values]
    hits: set[tuple[str, str, str]] = set()
    with Session(engine) as session:
        for table in metadata.sorted_tables:
            for column in table.columns:
                if not isinstance(column.type, String | JSON):
                    continue
                for stored in session.execute(select(column).where(column.is_not(None))).scalars():
                    text = (stored if isinstance(stored, str) else json.dumps(stored, ensure_ascii=False)).lower()
                    hits |= {(table.name, column.name, value) for value in wanted if value in text}
    return sorted(hits)
