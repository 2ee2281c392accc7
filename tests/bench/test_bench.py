"""The benchmark suite's own logic: a report is complete only with every scenario measured, the hot-member check's
serial answer is what the API really gives, and the generated history is a file the importer accepts. (The suite
itself runs from ``scripts/test`` as ``bench/run --quick``; nothing here measures time.)"""

from __future__ import annotations

import copy
import socket
import struct
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bench import orders, report, roundtrips, scenarios, server
from punchcard.importer.source import FileFormat, Order, RawOrder, read, validate
from punchcard.program import service as programs
from tests.factories import ProgramMaker

ROOT = Path(__file__).resolve().parents[2]


def scenario(name: str, **changes: Any) -> dict[str, Any]:
    return {
        "id": name,
        "title": f"{name} title",
        "measured": {"per_second": 120.5, "latency_ms": {"p50": 4.0, "p99": 9.5, "p999": 12.0}, "command": "wrk"},
        "baseline": {"name": "pgbench", "per_second": 2400.0, "latency_ms": {"p50": 1.0, "p99": 3.0, "p999": 5.0}},
        "ratio": 0.05,
        "goal": "≥ 1.0×",
        "met": False,
        "checks": ["all 201"],
        "notes": "",
        **changes,
    }


def replaced(document: dict[str, Any], name: str, **changes: Any) -> None:
    """Puts a changed copy of one scenario where that scenario stands in the report."""
    scenarios = document["scenarios"]
    at = next(i for i, s in enumerate(scenarios) if s["id"] == name)
    scenarios[at] = scenario(name, **changes)


def complete() -> dict[str, Any]:
    return {
        "mode": "quick",
        "started_at": "2026-11-22T16:00:00+00:00",
        "finished_at": "2026-11-22T16:01:30+00:00",
        "total_seconds": 90.0,
        "load_average": {"start": [1.0, 1.0, 1.0], "end": [2.0, 1.5, 1.0]},
        "machine": {
            "nproc": 2,
            "cpu": "test cpu",
            "memory_gib": 23.0,
            "kernel": "6.1",
            "python": "3.11.7",
            "postgresql": "15.20",
            "postgresql_settings": {"fsync": "on"},
            "git": "abc1234",
        },
        "server": {"command": "punchcard serve", "workers": 2, "pool_size": 10, "sqlite_workers": 1},
        "load_generator": "wrk",
        "setup_seconds": {"earn fixture": 1.0},
        "scenarios": [scenario(name) for name in report.REQUIRED],
    }


def test_a_report_with_every_scenario_measured_is_complete() -> None:
    assert report.missing(complete()) == []


def test_a_missing_or_failed_scenario_makes_the_report_incomplete() -> None:
    document = complete()
    document["scenarios"] = [s for s in document["scenarios"] if s["id"] != "hot-32"]
    replaced(document, "earn-8", measured={}, error="RuntimeError: lost update")
    assert report.missing(document) == ["earn-8", "hot-32"]


def test_the_markdown_report_shows_every_scenario_with_its_ratio_and_the_machine(tmp_path: Path) -> None:
    document = complete()
    replaced(document, "earn-32", measured={}, error="RuntimeError: boom")
    json_path, markdown_path = report.write(copy.deepcopy(document), tmp_path)
    text = markdown_path.read_text()
    assert json_path.exists()
    for name in report.REQUIRED:
        assert f"| {name} |" in text
    assert "| earn-8 | 120.5/s | 2,400.0/s (pgbench) | 0.050× | 4.0 / 9.5 / 12.0 | ≥ 1.0× | not met |" in text
    assert "**Failed:** RuntimeError: boom" in text
    assert "2 cores (test cpu), 23.0 GiB RAM" in text
    assert "fsync=on" in text


def test_the_hot_member_check_expects_exactly_what_serial_purchases_earn(make_program: ProgramMaker) -> None:
    # Given a fresh member of the demo program (50 welcome points)
    api = make_program()
    member = api.member("hot")
    at = "2026-06-01T12:00:00+00:00"
    hot = scenarios.HOT_LINE
    line = {"sku": hot.sku, "category": hot.category, "quantity": 1, "unit_price": str(hot.unit_price)}
    # When 140 identical purchases are posted one after the other (crossing Silver at 500 and Gold at 1,500 credits)
    for _ in range(140):
        api.purchase(member, [line], occurred_at=at)
    # Then the suite's serial answer is the balance the API shows
    program = programs.parse_text((ROOT / "examples" / "demo" / "program.yaml").read_text(), "yaml").to_domain()
    expected = scenarios.expected_balance(program, datetime.fromisoformat(at), 140)
    assert expected == 50 + 50 * 10 + 84 * 12 + 6 * 15
    assert api.available(member) == expected


def test_the_generated_history_is_a_valid_import_file(tmp_path: Path) -> None:
    path = tmp_path / "orders.csv"
    rows = orders.write_csv(path, orders=300, members=40, until=datetime(2026, 11, 1, tzinfo=UTC))
    found = [validate(raw) if isinstance(raw, RawOrder) else raw for raw in read(path, FileFormat.CSV)]
    assert all(isinstance(order, Order) for order in found)
    assert len(found) == 300
    assert rows == sum(len(order.lines) for order in found if isinstance(order, Order))
    times = [order.occurred_at for order in found if isinstance(order, Order)]
    assert times == sorted(times)


def test_a_run_whose_server_restarted_a_worker_fails(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("INFO:     Child process [41] died\n")  # an earlier run's restart is not this run's
    start = log.stat().st_size
    server.refuse_restarts(log, start)
    with log.open("a") as output:
        output.write("INFO:     Waiting for child process [42]\nINFO:     Child process [42] died\n")
    with pytest.raises(RuntimeError, match="restarted 1 time"):
        server.refuse_restarts(log, start)


def message(kind: bytes, body: bytes = b"") -> bytes:
    """One typed message of PostgreSQL's frontend protocol."""
    return kind + struct.pack("!i", 4 + len(body)) + body


def test_round_trips_are_the_messages_a_client_waits_after_however_they_are_sent() -> None:
    # Given a server that answers each Sync or Query with ReadyForQuery, behind the counting proxy
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    received = bytearray()

    def answer() -> None:
        connection, _ = listener.accept()
        with connection:
            while chunk := connection.recv(1024):
                received.extend(chunk)
                for _ in range(chunk.count(b"S\x00\x00\x00\x04") + chunk.count(b"Q\x00")):
                    connection.sendall(message(b"Z", b"I"))

    threading.Thread(target=answer, daemon=True).start()
    statement = message(b"P", b"\x00INSERT\x00\x00\x00") + message(b"B", b"\x00" * 8) + message(b"E", b"\x00" * 5)
    with (
        roundtrips.proxy("127.0.0.1", listener.getsockname()[1]) as (port, counter),
        socket.create_connection(("127.0.0.1", port)) as client,
    ):
        # When the client asks for TLS (refused by the proxy itself), starts a session, runs one statement and
        # waits, then pipelines three statements, split across packets, and ends the pipeline with a Sync and a
        # Flush (as psycopg does) before it waits once for all of them
        client.sendall(struct.pack("!ii", 8, 80877103))
        assert client.recv(1) == b"N"
        client.sendall(struct.pack("!ii", 8, 196608))
        client.sendall(statement + message(b"S"))
        assert client.recv(1024) == message(b"Z", b"I")
        pipeline = statement * 3 + message(b"S") + message(b"H")
        client.sendall(pipeline[:7])
        client.sendall(pipeline[7:])
        assert client.recv(1024) == message(b"Z", b"I")
        # Then that was two round trips, and the server never saw the request for TLS
        assert counter.turns == 2
        assert bytes(received).startswith(struct.pack("!ii", 8, 196608))
    listener.close()
