"""The importer's set-wise reads and writes of the ``lots`` and ``ledger_entries`` tables (a batch's members' ledger
state in a few queries, its new rows with COPY): other features call these, never the ledger repository or models."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from punchcard.kit import bulk
from punchcard.kit.db import is_postgres
from punchcard.ledger.domain import Account, EntryKind
from punchcard.ledger.models import LedgerAccount, LedgerEntry, Lot

_LOTS = cast(Table, Lot.__table__)
_ENTRIES = cast(Table, LedgerEntry.__table__)

TABLES = (_LOTS.name, _ENTRIES.name)
"""The tables these functions fill, for ``kit.bulk.analyze``."""


def open_lots(session: Session, member_ids: Sequence[int]) -> list[Row[Any]]:
    """Lots with points left or still pending, locked against the scheduled jobs (as ``spendable_lots`` does)."""
    if is_postgres(session):
        query = (
            "SELECT id, member_id, remaining, expires_at, is_pending, available_at FROM lots"
            " WHERE member_id = ANY(%s) AND (remaining > 0 OR is_pending) ORDER BY id FOR UPDATE"
        )
        return bulk.pg_rows(session, query, (sorted(member_ids),))
    rows: list[Row[Any]] = []
    for chunk in bulk.chunks(sorted(member_ids)):
        rows += session.execute(  # type: ignore[arg-type]
            select(Lot.id, Lot.member_id, Lot.remaining, Lot.expires_at, Lot.is_pending, Lot.available_at)
            .where(Lot.member_id.in_(chunk), (Lot.remaining > 0) | Lot.is_pending.is_(True))
            .order_by(Lot.id)
            .with_for_update()
        ).all()
    return rows


def debt_lines(session: Session, member_ids: Sequence[int]) -> dict[int, int]:
    """Each member's debt line (the lot-less legs of their ``points`` account, negative while they owe points)."""
    if is_postgres(session):
        query = "SELECT member_id, unbacked FROM ledger_accounts WHERE member_id = ANY(%s) AND account = %s"
        return {row[0]: int(row[1]) for row in bulk.pg_rows(session, query, (list(member_ids), Account.POINTS.value))}
    found: dict[int, int] = {}
    for chunk in bulk.chunks(member_ids):
        rows = session.execute(
            select(LedgerAccount.member_id, LedgerAccount.unbacked).where(
                LedgerAccount.member_id.in_(chunk), LedgerAccount.account == Account.POINTS.value
            )
        ).all()
        found.update({member_id: int(total) for member_id, total in rows})
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
        return [(row[0], row[1], int(row[2])) for row in bulk.pg_rows(session, query, parameters)]
    found: list[tuple[int, datetime, int]] = []
    for chunk in bulk.chunks(member_ids):
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
    """(member, rule, when, lot) of every earn entry of ``rule_codes``, as ``firing_count`` counts them."""
    if not rule_codes:
        return []
    if is_postgres(session):
        query = (
            "SELECT DISTINCT member_id, rule_code, occurred_at, lot_id FROM ledger_entries"
            " WHERE member_id = ANY(%s) AND rule_code = ANY(%s) AND kind = %s"
        )
        return bulk.pg_rows(session, query, (list(member_ids), list(rule_codes), EntryKind.EARN.value))
    found: list[tuple[int, str, datetime, int]] = []
    for chunk in bulk.chunks(member_ids):
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


def lot_ids(session: Session, expected: int) -> Iterator[int]:
    """Ids for new lots, ``expected`` reserved at once and more as the batch needs them (``kit.bulk.id_stream``)."""
    return bulk.id_stream(session, _LOTS, expected)


def insert_lots(session: Session, records: list[dict[str, Any]]) -> None:
    bulk.insert_rows(session, _LOTS, records)


def insert_entries(session: Session, records: list[dict[str, Any]]) -> None:
    bulk.insert_rows(session, _ENTRIES, records)


def update_lots(session: Session, changes: list[dict[str, Any]]) -> None:
    """Set existing lots' ``remaining`` and ``is_pending`` (``changes`` name the lot by ``lot_id``): one
    ``UPDATE … FROM unnest(arrays)`` on PostgreSQL instead of one statement per row, an executemany of plain Core
    ``UPDATE``s on SQLite."""
    if not changes:
        return
    if is_postgres(session):
        bulk.pg_rows(
            session,
            "UPDATE lots SET remaining = changed.remaining, is_pending = changed.is_pending"
            " FROM unnest(%s::integer[], %s::integer[], %s::boolean[]) AS changed (id, remaining, is_pending)"
            " WHERE lots.id = changed.id",
            (
                [change["lot_id"] for change in changes],
                [change["remaining"] for change in changes],
                [change["is_pending"] for change in changes],
            ),
            fetch=False,
        )
        return
    session.execute(
        update(_LOTS)
        .where(_LOTS.c.id == bindparam("lot_id"))
        .values(remaining=bindparam("remaining"), is_pending=bindparam("is_pending")),
        changes,
    )
