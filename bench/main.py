"""``bench/run [--quick]``: run every scenario with its baseline and write ``bench/results/report.{md,json}``.

Exits non-zero when a scenario fails or is missing from the report; never because a number is slow (CI runs
``--quick`` to keep the suite from rotting, not to judge speed on a shared machine).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import accepted, cpu, machine, pg, report, scenarios
from bench.scenarios import Bench, Result, ServerConfig, Sizes

RESULTS = Path(__file__).resolve().parent / "results"


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="every scenario at a small size (under two minutes)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432", help="server, no database")
    parser.add_argument("--database", default="punchcard_bench", help="the bench's own database (dropped, created)")
    parser.add_argument("--workers", type=int, default=2, help="punchcard serve --workers")
    parser.add_argument("--pool-size", type=int, default=20, help="PUNCHCARD_DATABASE_POOL_SIZE per worker")
    parser.add_argument("--sqlite-workers", type=int, default=1, help="workers for the embedded (SQLite) scenario")
    parser.add_argument("--only", default="", help="comma-separated groups: earn,read,hot,cpu,import,nightly,embedded")
    parser.add_argument(
        "--out", type=Path, help="where report.md and report.json go (default bench/results, or bench/results/quick)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench database afterwards")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    options = parse(argv)
    sizes = Sizes.quick() if options.quick else Sizes.full()
    out = options.out or (RESULTS / "quick" if options.quick else RESULTS)
    groups = set(filter(None, options.only.split(","))) or {
        "earn",
        "read",
        "hot",
        "cpu",
        "import",
        "nightly",
        "embedded",
    }
    database = pg.Server(options.postgres.rstrip("/"), options.database)
    config = ServerConfig(options.workers, options.pool_size, options.sqlite_workers)
    workdir = Path(tempfile.mkdtemp(prefix="punchcard-bench-"))
    started_at, started = datetime.now(UTC), time.monotonic()
    load_start = machine.load_average()
    version, settings = database.settings()
    bench = Bench(database, sizes, config, workdir)
    results: list[dict[str, Any]] = []

    def attempt(name: str, title: str, work: Callable[[], Result | list[Result]]) -> None:
        print(f"== {title}", flush=True)
        try:
            outcome = work()
        except Exception as error:  # a failed scenario is reported, and the run goes on to the next one
            traceback.print_exc()
            results.append(
                {
                    "id": name,
                    "title": title,
                    "measured": {},
                    "baseline": {},
                    "ratio": None,
                    "goal": "",
                    "met": None,
                    "checks": [],
                    "notes": "",
                    "error": f"{type(error).__name__}: {error}",
                }
            )
            return
        for result in outcome if isinstance(outcome, list) else [outcome]:
            results.append(scenarios.as_dict(result))
            print(f"   {_summary(results[-1])}", flush=True)

    print(f"== preparing {database.database} ({'quick' if options.quick else 'full'} sizes)", flush=True)
    setup = bench.prepare()
    try:
        if groups & {"earn", "read", "hot"}:
            with bench.serve() as running:
                for group, name, scenario in (
                    ("earn", "earn", scenarios.earn),
                    ("earn", "earn-async", accepted.earn_async),
                    ("read", "read", scenarios.read),
                    ("hot", "hot", scenarios.hot),
                ):
                    if group in groups:
                        for clients in sizes.clients:
                            attempt(
                                f"{name}-{clients}",
                                f"{name} at {clients} clients",
                                lambda s=scenario, c=clients: s(bench, running, c),  # type: ignore[misc]
                            )
        if "cpu" in groups:
            attempt("cpu-read", "CPU per operation (in-process)", lambda: cpu.cpu(bench))
        if "import" in groups:
            attempt("import", "history import", lambda: scenarios.history_import(bench))
        if "nightly" in groups:
            attempt("nightly-expiry", "nightly jobs", lambda: scenarios.nightly(bench))
        if "embedded" in groups:
            attempt("embedded", "embedded (SQLite)", lambda: scenarios.embedded(bench, sizes.clients[0]))
    finally:
        bench.engine.dispose()
        if not options.keep:
            database.drop()
        shutil.rmtree(workdir, ignore_errors=True)
    document = {
        "mode": "quick" if options.quick else "full",
        "started_at": started_at.isoformat(timespec="seconds"),
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "total_seconds": round(time.monotonic() - started, 1),
        "load_average": {
            "start": [round(v, 2) for v in load_start],
            "end": [round(v, 2) for v in machine.load_average()],
        },
        "machine": machine.describe(settings, version),
        "server": {
            "command": "punchcard serve --workers N --jobs-every 0 --no-access-log",
            "workers": config.workers,
            "pool_size": config.pool_size,
            "sqlite_workers": config.sqlite_workers,
        },
        "load_generator": "wrk (Debian package) with bench/lua/events.lua and members.lua, 2 threads; its own CPU "
        "use is in each scenario",
        "sizes": sizes.__dict__ | {"clients": list(sizes.clients)},
        "setup_seconds": setup,
        "scenarios": results,
    }
    json_path, markdown_path = report.write(document, out)
    print(f"== report: {markdown_path} and {json_path} ({document['total_seconds']} s)")
    absent = [name for name in report.missing(document) if _group(name) in groups]
    if absent:
        print(f"FAIL: scenarios missing or failed: {', '.join(absent)}")
        return 1
    return 0


def _group(scenario_id: str) -> str:
    return scenario_id.split("-")[0]


def _summary(result: dict[str, Any]) -> str:
    measured = result["measured"]
    value = f"{measured['per_second']:,.1f}/s" if "per_second" in measured else f"{measured.get('seconds', 0):.1f} s"
    ratio = f", {result['ratio']:.3f}× baseline" if result.get("ratio") is not None else ""
    latency = measured.get("latency_ms")
    tail = f", p99 {latency['p99']:.1f} ms" if latency else ""
    return f"{result['id']}: {value}{ratio}{tail}"
