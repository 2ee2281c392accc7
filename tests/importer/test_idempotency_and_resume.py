"""Importing is idempotent by order id and resumable: running a file again imports nothing twice, orders the API
already recorded are skipped, and a run interrupted between batches finishes with exactly the one-run result."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from punchcard.importer import service
from punchcard.importer.source import FileFormat
from tests.clock import NOW
from tests.factories import ProgramMaker
from tests.importer.history import (
    counts,
    history,
    import_file,
    post_through_api,
    recorded_as_prefixes,
    responses,
    state,
    write_csv,
)


def test_importing_the_same_file_twice_imports_nothing_the_second_time(
    make_program: ProgramMaker, engine: Engine, tmp_path: Path
) -> None:
    # Given a file imported once
    orders = history(members=4, orders=30)
    api = make_program()
    path = write_csv(tmp_path / "orders.csv", orders)
    first = import_file(engine, api, path, batch_size=8)
    members = sorted({order.member for order in orders})
    before = state(api, members), counts(engine, api.program_id)
    # When it is imported again
    second = import_file(engine, api, path, batch_size=8)
    # Then nothing was added
    assert (first.imported, first.skipped, first.members_created) == (30, 0, 4)
    assert (second.imported, second.skipped, second.members_created) == (0, 30, 0)
    assert (state(api, members), counts(engine, api.program_id)) == before


def test_orders_already_recorded_through_the_api_are_skipped(
    make_program: ProgramMaker, engine: Engine, tmp_path: Path
) -> None:
    # Given the first ten orders already sent live
    orders = history(members=3, orders=25)
    api, reference = make_program(), make_program()
    post_through_api(api, orders[:10])
    # When the whole history is imported
    summary = import_file(engine, api, write_csv(tmp_path / "orders.csv", orders))
    # Then only the other fifteen are imported, and the result is as if all had been sent live
    post_through_api(reference, orders)
    members = sorted({order.member for order in orders})
    assert (summary.imported, summary.skipped) == (15, 10)
    assert state(api, members) == state(reference, members)


class Interrupted(Exception):
    """Stands for the process being stopped (Ctrl-C, a crash) between two batches."""


@pytest.mark.parametrize("stop_after", [1, 3])
def test_an_interrupted_import_resumes_where_it_stopped(
    stop_after: int, make_program: ProgramMaker, engine: Engine, tmp_path: Path
) -> None:
    # Given an import that stops after a few committed batches of four orders
    orders = history(members=4, orders=30)
    path = write_csv(tmp_path / "orders.csv", orders)
    interrupted, whole = make_program(), make_program()
    batches = reported = 0

    def stop(done: int) -> None:
        nonlocal batches, reported
        batches += 1
        reported += done
        if batches == stop_after:
            raise Interrupted

    now = NOW
    plan = service.check(engine, interrupted.slug, path, FileFormat.CSV, now)
    with pytest.raises(Interrupted):
        service.run(engine, interrupted.slug, path, FileFormat.CSV, now=now, plan=plan, batch_size=4, progress=stop)
    # (on PostgreSQL the other lanes may have committed more batches before they were stopped; whole ones)
    recorded = recorded_as_prefixes(engine, interrupted.program_id, orders)
    assert recorded == reported == 4 * stop_after if engine.dialect.name == "sqlite" else recorded >= reported
    # When the same command runs again
    resumed = import_file(engine, interrupted, path, batch_size=4)
    # Then it imports the rest, and the result is what one uninterrupted run gives
    import_file(engine, whole, path, batch_size=4)
    members = sorted({order.member for order in orders})
    assert (resumed.imported, resumed.skipped) == (30 - recorded, recorded)
    assert state(interrupted, members) == state(whole, members)
    assert responses(engine, interrupted.program_id) == responses(engine, whole.program_id)
