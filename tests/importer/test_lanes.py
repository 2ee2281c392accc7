"""Lanes run as forked processes: their reports reach the parent as they come, and however a lane stops, the parent
raises why and no lane is left running."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine

from punchcard.importer import lanes
from punchcard.member.errors import MemberBlocked

ENGINE = create_engine("sqlite://")


def _counting(number: int, count: int, report: Callable[[Any], None]) -> None:
    for batch in range(3):
        report((number, count, batch, os.getpid()))


def test_every_lane_runs_in_its_own_process_and_reports_each_batch() -> None:
    received: list[tuple[int, int, int, int]] = []
    lanes.run(ENGINE, _counting, 3, received.append)
    assert sorted((number, count, batch) for number, count, batch, _ in received) == [
        (number, 3, batch) for number in range(3) for batch in range(3)
    ]
    processes = {pid for *_, pid in received}
    assert len(processes) == 3
    assert os.getpid() not in processes


def _blocked(number: int, count: int, report: Callable[[Any], None]) -> None:
    if number == 1:
        raise MemberBlocked("member 'c7' is blocked", [{"member": "c7"}])
    report(number)


def test_a_lanes_error_is_raised_in_the_parent_with_its_details() -> None:
    with pytest.raises(MemberBlocked) as raised:
        lanes.run(ENGINE, _blocked, 2, lambda _: None)
    assert raised.value.message == "member 'c7' is blocked"
    assert raised.value.details == [{"member": "c7"}]


def _dies(number: int, count: int, report: Callable[[Any], None]) -> None:
    report(number)
    os._exit(3)  # killed, as by the kernel: no report, no error


def test_a_lane_that_dies_without_a_word_fails_the_run() -> None:
    with pytest.raises(RuntimeError, match=r"import-lane-\d stopped without reporting why \(exit code 3\)"):
        lanes.run(ENGINE, _dies, 2, lambda _: None)


class Unpicklable(Exception):
    def __init__(self, reason: str, handle: object) -> None:
        super().__init__(reason)
        self.handle = handle


def _unpicklable(number: int, count: int, report: Callable[[Any], None]) -> None:
    raise Unpicklable("lost the file", lambda: None)


def test_an_error_that_cannot_travel_is_reported_by_its_text() -> None:
    with pytest.raises(RuntimeError, match="Unpicklable: lost the file"):
        lanes.run(ENGINE, _unpicklable, 2, lambda _: None)


class Stopped(Exception):
    """Stands for the parent being stopped (Ctrl-C, a failed progress report) while lanes run."""


def test_when_the_parent_stops_every_lane_is_stopped_too() -> None:
    def receive(_: object) -> None:
        raise Stopped

    with pytest.raises(Stopped):
        lanes.run(ENGINE, _counting, 2, receive)
    assert not [child for child in multiprocessing.active_children() if child.name.startswith("import-lane")]
