"""The second pass runs its batches in lanes (members split between them), each a process of its own on PostgreSQL:
a batch is committed whole or not at all whatever stops the run, and a rerun finishes with exactly the one-run
result."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from punchcard.importer import lanes as import_lanes
from punchcard.importer import repository, service
from punchcard.importer.source import FileFormat, Order
from punchcard.importer.state import Rows
from punchcard.kit import bulk
from punchcard.rules.domain import Line
from tests.clock import NOW
from tests.factories import ProgramMaker
from tests.importer.history import history, import_file, recorded_as_prefixes, responses, state, write_csv


def _order(number: int, member: str) -> Order:
    at = datetime(2025, 1, 1, tzinfo=UTC) + timedelta(hours=number)
    line = Line("SKU", "coffee-beans", Decimal(1), Decimal("9.90"))
    return Order(number, f"O-{number}", member, at, "EUR", (line,), Decimal(0))


def test_each_lane_gets_all_orders_of_its_members_in_time_order_and_nothing_else() -> None:
    # Given orders of twenty members in time order
    orders = [_order(number, f"m{number * 7 % 20}") for number in range(500)]
    # When they are split into batches for two lanes
    lanes = [list(service._batches(iter(orders), 16, lane, 2)) for lane in range(2)]
    # Then every order is in exactly one batch, a member's orders are all in one lane, and in time order
    assert sorted(order.line for batches in lanes for batch in batches for order in batch) == list(range(500))
    for lane, batches in enumerate(lanes):
        lines = [order.line for batch in batches for order in batch]
        assert lines == sorted(lines)
        assert all(len(batch) <= 16 for batch in batches)
        assert {zlib.crc32(order.member_external_id.encode()) % 2 for batch in batches for order in batch} == {lane}
    # One lane (SQLite) keeps the file's order exactly
    assert [order.line for batch in service._batches(iter(orders), 16, 0, 1) for order in batch] == list(range(500))


class DiskFull(Exception):
    """Stands for the database failing in the middle of writing a batch."""


def test_a_failure_while_writing_a_batch_leaves_nothing_of_it_and_a_rerun_finishes_the_import(
    make_program: ProgramMaker, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an import whose second batch fails after its rows were sent (in each lane's process on PostgreSQL)
    orders = history(members=4, orders=30)
    path = write_csv(tmp_path / "orders.csv", orders)
    failing, whole = make_program(), make_program()
    written = 0
    real_write = repository.write

    def write_then_fail(session: Any, rows: Rows) -> None:
        nonlocal written
        written += 1
        real_write(session, rows)
        if written == 2:
            raise DiskFull

    monkeypatch.setattr(repository, "write", write_then_fail)
    now = NOW
    plan = service.check(engine, failing.slug, path, FileFormat.CSV, now)
    with pytest.raises(DiskFull):
        service.run(engine, failing.slug, path, FileFormat.CSV, now=now, plan=plan, batch_size=4)
    # Then at most the lanes' first batches are recorded, whole: none of a failed batch's rows
    recorded = recorded_as_prefixes(engine, failing.program_id, orders)
    lanes = 1 if engine.dialect.name == "sqlite" else import_lanes.default_lanes()
    assert recorded <= 4 * lanes
    if lanes == 1:
        assert recorded == 4
    monkeypatch.setattr(repository, "write", real_write)
    # And running the command again imports the rest: the result is what one uninterrupted run gives
    resumed = import_file(engine, failing, path, batch_size=4)
    import_file(engine, whole, path, batch_size=4)
    members = sorted({order.member for order in orders})
    assert (resumed.imported, resumed.skipped) == (30 - recorded, recorded)
    assert state(failing, members) == state(whole, members)
    assert responses(engine, failing.program_id) == responses(engine, whole.program_id)


class Unreadable(Exception):
    """Stands for the file becoming unreadable (or the process being stopped) while orders are being read."""


def test_a_failure_while_reading_stops_the_import_with_every_batch_whole(
    make_program: ProgramMaker, engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an import whose file fails after 13 orders have been read (by each lane: three batches of four may be full)
    orders = history(members=4, orders=30)
    path = write_csv(tmp_path / "orders.csv", orders)
    failing, whole = make_program(), make_program()
    real_chronological = service._chronological

    def failing_reader(*arguments: Any) -> Iterator[Order]:
        for number, order in enumerate(real_chronological(*arguments)):
            if number == 13:
                raise Unreadable
            yield order

    monkeypatch.setattr(service, "_chronological", failing_reader)
    now = NOW
    plan = service.check(engine, failing.slug, path, FileFormat.CSV, now)
    with pytest.raises(Unreadable):
        service.run(engine, failing.slug, path, FileFormat.CSV, now=now, plan=plan, batch_size=4)
    # Then whole batches only were recorded, those committed before the failure (the one being filled wrote nothing)
    recorded = recorded_as_prefixes(engine, failing.program_id, orders)
    assert recorded <= 12
    if engine.dialect.name == "sqlite":  # one lane: the three full batches before the failure
        assert recorded == 12
    monkeypatch.setattr(service, "_chronological", real_chronological)
    # And a rerun finishes it exactly as one run would have
    resumed = import_file(engine, failing, path, batch_size=4)
    import_file(engine, whole, path, batch_size=4)
    members = sorted({order.member for order in orders})
    assert (resumed.imported, resumed.skipped) == (30 - recorded, recorded)
    assert state(failing, members) == state(whole, members)
    assert responses(engine, failing.program_id) == responses(engine, whole.program_id)


def test_copy_text_formats_values_as_postgresql_reads_them() -> None:
    moment = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
    cases = [
        (None, "\\N"),
        (True, "t"),
        (False, "f"),
        (42, "42"),
        ("a\tb\\c\nd\re", "a\\tb\\\\c\\nd\\re"),
        (moment, "2025-03-01T09:30:00+00:00"),
        ({"sku": "A\tB"}, '{"sku":"A\\\\tB"}'),
        ([1, "x"], '[1,"x"]'),
        (Decimal("1.50"), "1.50"),
    ]
    assert [bulk._copy_text(value) for value, _ in cases] == [text for _, text in cases]
    with pytest.raises(ValueError, match="naive"):
        bulk._copy_text(datetime(2025, 3, 1, 9, 30))  # noqa: DTZ001
