"""The ``earn-async`` scenario: purchases sent with ``Prefer: respond-async``, accepted (202) and processed by the
server's own workers; the accept rate and the sustained end-to-end rate, both against pgbench TPC-B in the same run."""

from __future__ import annotations

import time

from sqlalchemy import text

from bench import pg, server
from bench.scenarios import Bench, Result, _pgbench_baseline, _ratio, _require_no_errors, _wrk_measured

_COUNTS = text(
    "SELECT count(*) FILTER (WHERE status = 'accepted'), count(*) FILTER (WHERE status = 'processed'),"
    " count(*) FILTER (WHERE status = 'rejected') FROM intake_events"
)
DRAIN_LIMIT_SECONDS = 600
"""How long the backlog may take to be processed after the load stops before the run is called failed."""


def _counts(bench: Bench) -> tuple[int, int, int]:
    with bench.engine.connect() as connection:
        accepted, processed, rejected = connection.execute(_COUNTS).one()
    return int(accepted), int(processed), int(rejected)


def earn_async(bench: Bench, running: server.Running, clients: int) -> Result:
    baseline = pg.pgbench(bench.database, "pgbench -b tpcb-like", clients, bench.sizes.seconds, builtin="tpcb-like")
    start: dict[str, float | int] = {}

    def at_start() -> None:
        start["processed"] = _counts(bench)[1]
        start["time"] = time.monotonic()

    measured = bench.load(running, "events.lua", clients, {"BENCH_PREFER": "respond-async"}, at_start=at_start)
    _require_no_errors(measured, f"earn-async at {clients} clients")
    # The end-to-end rate: what the workers processed from the start of the measured run until the backlog was gone.
    deadline = time.monotonic() + DRAIN_LIMIT_SECONDS
    while (counts := _counts(bench))[0]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{counts[0]} accepted events were still waiting {DRAIN_LIMIT_SECONDS} s after the load")
        time.sleep(0.05)
    drained = time.monotonic() - float(start["time"])
    _, processed, rejected = counts
    if rejected:
        raise RuntimeError(f"{rejected} accepted purchases were rejected")
    end_to_end = (processed - int(start["processed"])) / drained
    accept_ratio = _ratio(measured.throughput, baseline.tps)
    through_ratio = _ratio(end_to_end, baseline.tps)
    return Result(
        id=f"earn-async-{clients}",
        title=f"Earn, accepted now and processed later: Prefer: respond-async, {clients} clients, the server's "
        f"workers processing",
        measured=_wrk_measured(measured, bench.last_pg_cpu)
        | {
            "end_to_end": {
                "processed": processed - int(start["processed"]),
                "seconds": round(drained, 2),
                "per_second": round(end_to_end, 1),
                "ratio_to_tpcb": through_ratio,
            }
        },
        baseline=_pgbench_baseline(baseline),
        ratio=accept_ratio,
        goal="accepts ≥ 1.0× pgbench TPC-B; end to end ≥ 0.4× TPC-B",
        met=bool(accept_ratio and accept_ratio >= 1.0 and through_ratio and through_ratio >= 0.4),
        checks=[
            f"{measured.requests} responses, all 202; every accepted purchase processed, none rejected "
            f"({processed} in all)"
        ],
    )
