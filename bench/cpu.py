"""Where a request's CPU goes, in-process: the server's own work per member read and per purchase, without HTTP.

Throughput over HTTP moves with whatever else the machine is doing; CPU per operation, measured in one process with
``time.process_time``, moves far less. This is how the findings in docs/performance.md were measured: the statements
an operation issues, and what recording purchases one transaction each costs against recording them in batches of
eight (the shape group commit gives them).
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import event

from bench import roundtrips
from bench.scenarios import Bench, Result
from punchcard.event import service as events
from punchcard.event.schemas import EventIn
from punchcard.kit.db import commit_together, get_engine, reading, session_factory
from punchcard.kit.idempotency import request_hash
from punchcard.member.http import read_view
from punchcard.program import service as programs

BATCH = 8
GOAL = "diagnostic: server CPU per operation, without HTTP"


def cpu(bench: Bench) -> list[Result]:
    """Member reads, purchases one per transaction and purchases in batches of eight, each timed over ``operations``."""
    sessions = session_factory(bench.engine)
    authorization = f"Bearer {bench.program.key}"
    count = bench.sizes.members
    statements = [0]

    def counted(*_: Any) -> None:
        statements[0] += 1

    def purchase() -> EventIn:
        tag = uuid.uuid4().hex
        return EventIn.model_validate(
            {
                "id": f"cpu-{tag}",
                "type": "purchase",
                "member_external_id": f"m{random.randint(1, count)}",
                "order_id": f"cpu-{tag}",
                "occurred_at": datetime.now(UTC).isoformat(),
                "currency": "EUR",
                "lines": [{"sku": "BEANS-1", "category": "coffee-beans", "quantity": 2, "unit_price": "12.50"}],
            }
        )

    def read() -> int:
        with sessions() as session:
            reading(session)  # as the API's member read does (``program.http.in_one_trip``)
            _, version = programs.for_key(session, authorization)
            read_view(session, version, f"m{random.randint(1, count)}", datetime.now(UTC))
        return 1

    def earn(batch: int) -> Callable[[], int]:
        def run() -> int:
            with sessions() as session:
                _, version = programs.for_key(session, authorization)
                for _ in range(batch):
                    body = purchase()
                    now = datetime.now(UTC)
                    events.record(session, version, body, request_hash(body.model_dump(mode="json")), now)
                commit_together(session)  # as group commit commits
            return batch

        return run

    operations = 200 if bench.sizes.members < 10_000 else 1_000
    event.listen(bench.engine, "before_cursor_execute", counted)
    try:
        works = {"cpu-read": read, "cpu-earn": earn(1), "cpu-earn-batched": earn(BATCH)}
        timed = {name: _timed(work, operations, statements) for name, work in works.items()}
    finally:
        event.remove(bench.engine, "before_cursor_execute", counted)
    url = bench.engine.url
    with roundtrips.proxy(url.host or "127.0.0.1", url.port or 5432) as (port, counter):
        proxied = get_engine(url.set(host="127.0.0.1", port=port).render_as_string(hide_password=False))
        sessions = session_factory(proxied)  # the works above now talk to PostgreSQL through the counting proxy
        try:
            for name, work in works.items():
                timed[name]["round_trips_per_operation"] = _round_trips(work, counter)
        finally:
            proxied.dispose()
    alone = timed["cpu-earn"]
    return [
        _result("cpu-read", "GET /members/{id} without HTTP: the key, the member and its view", timed["cpu-read"]),
        _result("cpu-earn", "a purchase without HTTP, in a transaction of its own", alone),
        _result(
            "cpu-earn-batched",
            f"purchases without HTTP, {BATCH} to a transaction (group commit's shape)",
            timed["cpu-earn-batched"],
            baseline=alone | {"name": "the same purchases, a transaction each"},
        ),
    ]


def _round_trips(work: Callable[[], int], counter: roundtrips.TurnCounter, operations: int = 50) -> float:
    """Round trips to PostgreSQL per operation, counted on the wire (``bench.roundtrips``), after a warm-up."""
    for _ in range(5):
        work()
    counter.reset()
    done = 0
    while done < operations:
        done += work()
    return round(counter.turns / done, 2)


def _timed(work: Callable[[], int], operations: int, statements: list[int]) -> dict[str, Any]:
    """CPU and statements per operation over at least ``operations`` (after a warm-up of a tenth as many)."""
    done = 0
    while done < operations // 10:
        done += work()
    statements[0], done = 0, 0
    started = time.process_time()
    while done < operations:
        done += work()
    used = time.process_time() - started
    return {
        "per_second": round(done / used, 1),
        "cpu_us_per_operation": round(used / done * 1_000_000),
        "statements_per_operation": round(statements[0] / done, 2),
        "operations": done,
    }


def _result(scenario: str, title: str, measured: dict[str, Any], baseline: dict[str, Any] | None = None) -> Result:
    ratio = round(measured["per_second"] / baseline["per_second"], 3) if baseline else None
    notes = "per_second here is operations per CPU-second of the server process, not wall-clock throughput"
    return Result(scenario, title, measured, baseline or {}, ratio, GOAL, None, [], notes)
