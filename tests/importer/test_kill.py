"""``punchcard import orders`` killed with ``SIGKILL`` in the middle of a file loses nothing and doubles nothing: what
it committed is whole batches of each member's oldest orders, and running the same command again finishes with
exactly what one uninterrupted run gives, the ledger balanced."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from sqlalchemy import Engine, text

from punchcard.kit.db import unit_of_work
from punchcard.ledger.verify import verify
from tests.clock import NOW
from tests.factories import ProgramMaker
from tests.importer.history import history, import_file, recorded_as_prefixes, responses, state, write_csv

PUNCHCARD = Path(sys.executable).with_name("punchcard")
BATCH = 50


def events_recorded(engine: Engine, program_id: int) -> int:
    """Read beside the import's open transaction without waiting for it (on SQLite through a plain WAL reader)."""
    query = "SELECT count(*) FROM events WHERE program_id = :program"
    if engine.dialect.name == "sqlite":
        with closing(sqlite3.connect(str(engine.url.database))) as reader:
            return int(reader.execute(query, {"program": program_id}).fetchone()[0])
    with engine.connect() as connection:
        return int(connection.execute(text(query), {"program": program_id}).scalar_one())


def test_an_import_killed_mid_file_finishes_on_the_next_run_with_the_one_run_result(
    make_program: ProgramMaker, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    # Given an import of 2,000 orders in batches of 50, killed (SIGKILL, no clean-up) once it has committed some
    orders = history(members=40, orders=2000)
    path = write_csv(tmp_path / "orders.csv", orders)
    killed, whole = make_program(), make_program()
    command = [str(PUNCHCARD), "--database-url", database_url, "import", "orders", str(path)]
    with (tmp_path / "import.log").open("wb") as log:
        process = subprocess.Popen(
            [*command, "--program", killed.slug, "--batch-size", str(BATCH)],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env={**os.environ, "PUNCHCARD_FIXED_NOW": NOW.isoformat()},
        )
    while events_recorded(engine, killed.program_id) < 2 * BATCH and process.poll() is None:
        time.sleep(0.02)
    assert process.poll() is None, (tmp_path / "import.log").read_text()
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    # (what it left is each member's oldest orders, never an order without its older ones)
    recorded = recorded_as_prefixes(engine, killed.program_id, orders)
    assert 2 * BATCH <= recorded < len(orders)
    # When the same command runs again, and another program imports the file in one run
    resumed = import_file(engine, killed, path, batch_size=BATCH)
    import_file(engine, whole, path, batch_size=BATCH)
    # Then the second run imports exactly what the first had not, and the two programs are alike to the last point
    assert (resumed.imported, resumed.skipped) == (len(orders) - recorded, recorded)
    members = sorted({order.member for order in orders})
    assert state(killed, members) == state(whole, members)
    assert responses(engine, killed.program_id) == responses(engine, whole.program_id)
    with unit_of_work(engine) as session:
        assert verify(session, killed.program_id).problems == []
