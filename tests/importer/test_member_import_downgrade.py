"""Downgrading past ``0025_imported_balances`` keeps imported opening balances as the members' points, in the kind and
account the code before knows (a positive adjustment), the ledger still balanced."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from sqlalchemy import text
from sqlalchemy.orm import Session

from punchcard.importer import members
from punchcard.importer.exports import Source, mapping_for
from punchcard.kit.db import get_engine
from punchcard.kit.migrate import alembic_config, upgrade
from punchcard.ledger.verify import verify
from punchcard.program import service as programs
from tests.clock import NOW

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"
DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo" / "program.yaml"


def test_a_downgrade_turns_opening_balances_into_adjustments(tmp_path: Path) -> None:
    # Given a database with members imported from Smile.io
    engine = get_engine.__wrapped__(f"sqlite:///{tmp_path / 'downgrade.db'}", 10)
    try:
        upgrade(engine)
        with Session(engine) as session, session.begin():
            source = DEMO.read_text()
            programs.apply(session, programs.parse_text(source, "yaml"), source, "yaml", NOW)
        path = FIXTURES / "smile_customers.csv"
        plan = members.check(engine, "bean-there", path, Source.SMILE, mapping_for(Source.SMILE, None), NOW)
        members.run(engine, "bean-there", plan, now=NOW)
        # When the schema is taken back to the revision before
        config = alembic_config(engine)
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0024_privacy")
        # Then the balances are positive adjustments against the adjustments' account, and every transfer balances
        with engine.connect() as connection:
            entries = connection.execute(
                text("SELECT account, kind, amount, description FROM ledger_entries WHERE operation LIKE 'import:%'")
            ).all()
        assert sorted(tuple(entry) for entry in entries) == [
            ("points", "adjust", 0, "Adjustment: Opening balance from Smile.io"),
            ("points", "adjust", 80, "Adjustment: Opening balance from Smile.io"),
            ("points", "adjust", 1250, "Adjustment: Opening balance from Smile.io"),
            ("program:adjustment", "adjust", -1250, "Opening balance from Smile.io"),
            ("program:adjustment", "adjust", -80, "Opening balance from Smile.io"),
        ]
        with Session(engine) as session:
            assert verify(session).problems == []
        upgrade(engine)  # and back up again
    finally:
        engine.dispose()
