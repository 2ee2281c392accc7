"""The importer's reads (a batch's members and their ledger state, in a few set-wise queries) and writes (COPY on
PostgreSQL, multi-row inserts on SQLite)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Row, Table, bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from punchcard.event.models import Event, Order
from punchcard.importer.book import Rows
from punchcard.kit.db import is_postgres
from punchcard.ledger.domain import Account, EntryKind
from punchcard.ledger.models import LedgerEntry, Lot
from punchcard.member.models import Member
from punchcard.tier.models import TierChange

CHUNK = 1000
"""Values per ``IN (...)`` list: well inside both databases' limits on bound parameters."""


T = TypeVar("T")


def _chunks(values: Sequence[T]) -> Iterable[Sequence[T]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def recorded_orders(session: Session, program_id: int, order_ids: Sequence[str]) -> set[str]:
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
    """The members that exist, locked (in id order, as every other batch does, so batches never deadlock)."""
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
            .with_for_update()
        ).all()
    return rows


def open_lots(session: Session, member_ids: Sequence[int]) -> list[Row[Any]]:
    """Lots with points left or still pending, locked against the scheduled jobs (as ``spendable_lots`` does)."""
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
        found.update({member_id: int(total) for member_id, total in rows})
    return found


def tier_credits(session: Session, member_ids: Sequence[int], since: datetime) -> list[tuple[int, datetime, int]]:
    """Tier credit entries from ``since`` on, and everything earlier as one total per member dated at its earliest
    entry: ``since`` is where the earliest window of the batch starts, so no window counts part of that total (a
    lifetime window counts all of it)."""
    found: list[tuple[int, datetime, int]] = []
    for chunk in _chunks(member_ids):
        credits = (LedgerEntry.member_id.in_(chunk), LedgerEntry.account == Account.TIER_CREDITS.value)
        found += [
            (row.member_id, row.occurred_at, int(row.amount))
            for row in session.execute(
                select(LedgerEntry.member_id, LedgerEntry.occurred_at, LedgerEntry.amount).where(
                    *credits, LedgerEntry.occurred_at >= since
                )
            )
        ]
        found += [
            (member_id, earliest, int(total))
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

_JSON_COLUMNS = {"response", "lines", "refunded_quantities"}


def write(session: Session, rows: Rows) -> None:
    """Insert a batch's rows (parents first) and apply its changes to existing lots and members."""
    for table, records in (
        (Member.__table__, rows.members),
        (Event.__table__, rows.events),
        (Lot.__table__, rows.lots),
        (Order.__table__, rows.orders),
        (LedgerEntry.__table__, rows.entries),
        (TierChange.__table__, rows.tier_changes),
    ):
        if records:
            _insert(session, table, records)  # type: ignore[arg-type]
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


def _insert(session: Session, table: Table, records: list[dict[str, Any]]) -> None:
    if not is_postgres(session):
        session.execute(insert(table), records)
        return
    # COPY is several times faster than multi-row INSERT for large batches; it runs in the session's transaction.
    columns = list(records[0])
    driver = session.connection().connection.driver_connection
    statement = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    json_at = [index for index, name in enumerate(columns) if name in _JSON_COLUMNS]
    with driver.cursor() as cursor, cursor.copy(statement) as copy:  # type: ignore[union-attr]
        for record in records:
            values = list(record.values())
            for index in json_at:
                values[index] = json.dumps(values[index])
            copy.write_row(values)
