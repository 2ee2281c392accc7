"""The Alembic migrations build exactly the schema the models describe, on the database under test, and the
migrations to double entry and to stored account totals keep every balance of a database filled with the demo's
sample data."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.orm import Session

from punchcard.demo import setup
from punchcard.kit.db import get_engine
from punchcard.kit.migrate import alembic_config, upgrade
from punchcard.ledger import repository as ledger_queries
from punchcard.ledger.domain import Balances
from punchcard.ledger.verify import verify
from punchcard.schema import metadata
from tests.clock import NOW

FAR = datetime(2100, 1, 1, tzinfo=UTC)


def test_migrated_database_matches_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, metadata) == []


@pytest.fixture
def empty_database(database_url: str, tmp_path: Path) -> Iterator[tuple[str, Path | None]]:
    """A new empty database of the kind under test: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if not database_url.startswith("postgresql"):
        path = tmp_path / "migrating.db"
        yield f"sqlite:///{path}", path
        return
    name = f"punchcard_migrating_{uuid.uuid4().hex[:10]}"
    admin = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = database_url.rsplit("/", 1)[0] + f"/{name}"
    yield url, None
    get_engine(url).dispose()
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def snapshot(engine: Engine) -> dict[str, Any]:
    """Everything a member sees and the jobs act on: lots, tiers, the members' own entries, and each member's
    balances, tier credits and expiring points as the ledger's queries read them."""
    with Session(engine) as session:
        members = session.execute(
            text("SELECT id, tier_code, tier_since, tier_grace_until FROM members ORDER BY id")
        ).all()
        found: dict[str, Any] = {
            "lots": session.execute(text("SELECT * FROM lots ORDER BY id")).all(),
            "members": members,
            "entries": session.execute(
                text(
                    "SELECT id, member_id, account, kind, amount, lot_id, occurred_at, recorded_at, event_id,"
                    " order_id, rule_code, operation, description FROM ledger_entries"
                    " WHERE member_id IS NOT NULL ORDER BY id"
                )
            ).all(),
        }
        for member_id, *_ in members:
            found[f"member {member_id}"] = (
                derived_balances(session, member_id),
                ledger_queries.tier_credits(session, member_id, None, FAR),
                ledger_queries.tier_credits(session, member_id, NOW - timedelta(days=365), NOW),
                ledger_queries.expiring(session, member_id, NOW, limit=50),
            )
    return found


def derived_balances(session: Session, member_id: int) -> Balances:
    """A member's balances as the schema before stored account totals derived them: from their lots and debt line."""
    lots = session.execute(
        text(
            "SELECT coalesce(sum(CASE WHEN is_pending THEN 0 ELSE remaining END), 0),"
            " coalesce(sum(CASE WHEN is_pending THEN remaining ELSE 0 END), 0), coalesce(sum(amount), 0)"
            " FROM lots WHERE member_id = :member"
        ),
        {"member": member_id},
    ).one()
    debt_line = session.execute(
        text(
            "SELECT coalesce(sum(amount), 0) FROM ledger_entries"
            " WHERE member_id = :member AND account = 'points' AND lot_id IS NULL"
        ),
        {"member": member_id},
    ).scalar_one()
    return Balances(int(lots[0]) + debt_line, int(lots[1]), int(lots[2]), -debt_line)


def test_the_double_entry_migration_keeps_every_balance_lot_expiry_and_tier_and_balances_every_transfer(
    empty_database: tuple[str, Path | None],
) -> None:
    # Given a year of the demo's sample data, in the schema before double entry (its single-entry ledger)
    url, path = empty_database
    setup.build(url, path, echo=lambda _: None, members=25, now=NOW)
    engine = get_engine(url)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0004_outbox")
    before = snapshot(engine)
    assert len(before["entries"]) > 500
    # When the database is migrated
    upgrade(engine)
    # Then every balance, lot, expiry, tier and member entry is exactly as it was
    assert snapshot(engine) == before
    # And every entry now belongs to a transfer that sums to zero per asset, the program's legs mirroring the members'
    with Session(engine) as session:
        report = verify(session)
        program_total = session.execute(
            text("SELECT asset, sum(amount) FROM ledger_entries WHERE member_id IS NULL GROUP BY asset ORDER BY asset")
        ).all()
        members_total = session.execute(
            text(
                "SELECT asset, -sum(amount) FROM ledger_entries WHERE member_id IS NOT NULL"
                " GROUP BY asset ORDER BY asset"
            )
        ).all()
    assert report.problems == []
    assert report.transfers > len(before["entries"]) / 2
    assert program_total == members_total
    # And every member's balances, now read from their account rows, are what the lots and entries said
    with Session(engine) as session:
        for member_id, *_ in before["members"]:
            assert ledger_queries.balances(session, member_id) == derived_balances(session, member_id)
    engine.dispose()
