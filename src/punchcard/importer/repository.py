"""The importer's writes: a batch's rows, parents first, through the bulk modules of the features that own the tables
(COPY on PostgreSQL, multi-row inserts on SQLite), then its changes to existing lots and members. The batch's reads
are the features' too (``member.bulk``, ``event.bulk``, ``ledger.bulk``): the importer reads no other feature's
tables itself."""

from __future__ import annotations

from typing import cast

from sqlalchemy import Table
from sqlalchemy.orm import Session

from punchcard.event import bulk as event_bulk
from punchcard.importer.state import Rows
from punchcard.kit import bulk
from punchcard.ledger import bulk as ledger_bulk
from punchcard.member import bulk as member_bulk
from punchcard.outbox import service as outbox
from punchcard.tier import bulk as tier_bulk


def write(session: Session, rows: Rows) -> None:
    """Insert a batch's rows (parents first) and apply its changes to existing lots and members."""
    member_bulk.insert_members(session, rows.members)
    event_bulk.insert_events(session, rows.events)
    ledger_bulk.insert_lots(session, rows.lots)
    event_bulk.insert_orders(session, rows.orders)
    ledger_bulk.insert_entries(session, rows.entries)
    tier_bulk.insert_changes(session, rows.tier_changes)
    bulk.insert_rows(session, cast(Table, outbox.TABLE), rows.outbox)
    ledger_bulk.update_lots(session, rows.lot_updates)
    member_bulk.update_tiers(session, rows.member_updates)


def analyze(session: Session) -> None:
    """Refresh PostgreSQL's statistics of the tables an import fills, so its lookups keep using the indexes (a plan
    made when ``orders`` was nearly empty scans it whole, which gets slower with every batch)."""
    bulk.analyze(session, [*member_bulk.TABLES, *event_bulk.TABLES, *ledger_bulk.TABLES])
