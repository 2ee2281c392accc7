"""The scenarios of issue 4, each measured against its baseline in the same run.

Every scenario returns a ``Result``: what Punchcard did, what the baseline did, their ratio and the goal. Scenarios
never raise for a slow number; they raise only when something is wrong (an error response, a lost update).
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import psycopg
from sqlalchemy import Engine, func, select

from bench import fixture, orders, pg, server, wrk
from bench.machine import CpuSample
from bench.stats import Latency, percentiles
from punchcard.event.models import Event
from punchcard.jobs import service as jobs
from punchcard.kit.db import get_engine, unit_of_work
from punchcard.kit.migrate import upgrade
from punchcard.member.models import Member
from punchcard.program.domain import Program
from punchcard.rules.domain import Context, EventFacts, Line, MemberFacts, evaluate

ROOT = Path(__file__).resolve().parents[1]
JOB_WORKERS = 2
"""``punchcard jobs run --workers 2``: one connection per core."""


@dataclass(frozen=True)
class Sizes:
    members: int
    seconds: float
    warmup: float
    pgbench_scale: int
    import_orders: int
    import_members: int
    nightly_members: int
    nightly_lots_per_member: int
    clients: tuple[int, ...] = (8, 32)

    @classmethod
    def full(cls) -> Sizes:
        return cls(100_000, 30, 5, 32, 1_000_000, 100_000, 1_000_000, 10)

    @classmethod
    def quick(cls) -> Sizes:
        return cls(2_000, 3, 1, 1, 5_000, 1_000, 5_000, 10)


@dataclass(frozen=True)
class ServerConfig:
    workers: int
    pool_size: int
    sqlite_workers: int


@dataclass
class Result:
    id: str
    title: str
    measured: dict[str, Any]
    baseline: dict[str, Any]
    ratio: float | None
    goal: str
    met: bool | None
    checks: list[str] = field(default_factory=list)
    notes: str = ""


@dataclass
class Bench:
    """Everything the scenarios share: the database, sizes, the server set-up and where logs go."""

    database: pg.Server
    sizes: Sizes
    config: ServerConfig
    workdir: Path
    engine: Engine = field(init=False)
    program: fixture.Program = field(init=False)
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    last_pg_cpu: float = 0.0
    """CPU cores the bench database's PostgreSQL backends used during the last measured load."""

    def prepare(self) -> dict[str, float]:
        """A fresh database with the earn fixture and pgbench's tables; returns seconds taken by each part."""
        timings: dict[str, float] = {}
        started = time.monotonic()
        self.database.recreate()
        self.engine = get_engine(self.database.url)
        upgrade(self.engine)
        self.program = fixture.program(self.engine, "bench")
        fixture.members(self.engine, self.program, self.sizes.members, self.now - timedelta(days=30))
        timings["earn fixture"] = round(time.monotonic() - started, 1)
        timings["pgbench init"] = round(pg.pgbench_init(self.database, self.sizes.pgbench_scale), 1)
        self.database.execute(
            "CREATE TABLE bench_hot (id integer PRIMARY KEY, balance bigint NOT NULL)",
            "INSERT INTO bench_hot VALUES (1, 0)",
        )
        return timings

    @contextmanager
    def serve(self, url: str | None = None, workers: int | None = None) -> Iterator[server.Running]:
        with server.serve(
            url or self.database.url,
            workers=workers or self.config.workers,
            pool_size=self.config.pool_size,
            log=self.workdir / "server.log",
        ) as running:
            yield running

    def load(
        self,
        running: server.Running,
        script: str,
        clients: int,
        extra: dict[str, str] | None = None,
        at_start: Callable[[], None] | None = None,
    ) -> wrk.WrkResult:
        """A warm-up run, then the measured run (``at_start`` is called just before it); both with unique ids."""
        env = {
            "BENCH_KEY": self.program.key,
            "BENCH_MEMBERS": str(self.sizes.members),
            "BENCH_OCCURRED_AT": datetime.now(UTC).isoformat(timespec="seconds"),
            **(extra or {}),
        }
        wrk.run(
            running.url,
            script,
            clients=clients,
            seconds=self.sizes.warmup,
            env={**env, "BENCH_RUN": uuid.uuid4().hex[:10]},
        )
        if at_start is not None:
            at_start()
        before_pg = self.database.backend_cpu_seconds()
        result = wrk.run(
            running.url,
            script,
            clients=clients,
            seconds=self.sizes.seconds,
            env={**env, "BENCH_RUN": uuid.uuid4().hex[:10]},
            server_pid=running.pid,
        )
        used = pg.backend_cpu_used(before_pg, self.database.backend_cpu_seconds())
        self.last_pg_cpu = round(used / result.seconds, 2) if used > 0 else 0.0
        return result


def _wrk_measured(result: wrk.WrkResult, pg_cpu: float) -> dict[str, Any]:
    return {
        "clients": result.clients,
        "requests": result.requests,
        "seconds": result.seconds,
        "per_second": result.throughput,
        "latency_ms": result.latency.as_dict(),
        "errors": result.errors,
        "cpu_cores": {
            "load_generator": result.wrk_cpu_cores,
            "server": result.server_cpu_cores,
            "postgresql": pg_cpu,
            "machine_busy_share": result.machine_busy,
        },
        "command": result.command,
    }


def _pgbench_baseline(result: pg.PgbenchResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "clients": result.clients,
        "transactions": result.transactions,
        "seconds": result.seconds,
        "per_second": result.tps,
        "latency_ms": result.latency.as_dict(),
        "failed": result.failed,
        "cpu_cores": {"pgbench": result.cpu_cores},
        "command": result.command,
    }


def _ratio(measured: float, baseline: float) -> float | None:
    return round(measured / baseline, 3) if baseline else None


def _require_no_errors(result: wrk.WrkResult, what: str) -> None:
    if result.errors:
        raise RuntimeError(f"{what}: the load generator saw errors {result.errors}")


# --- 1. earn -----------------------------------------------------------------------------------------------------


def earn(bench: Bench, running: server.Running, clients: int) -> list[Result]:
    """The purchases over HTTP, against TPC-B and against ``earn-limit`` (the earn's own statements in one server-side
    function, ``bench/sql/earn_limit.sql``), both by pgbench in the same run."""
    baseline = pg.pgbench(bench.database, "pgbench -b tpcb-like", clients, bench.sizes.seconds, builtin="tpcb-like")
    bench.database.execute((pg.SQL / "earn_limit.sql").read_text())
    variables = {"members": bench.sizes.members, "program": bench.program.program_id}
    limit = pg.pgbench(
        bench.database, "earn-limit", clients, bench.sizes.seconds, script="earn_limit_call.sql", variables=variables
    )
    measured = bench.load(running, "events.lua", clients)
    _require_no_errors(measured, f"earn at {clients} clients")
    ratio, to_limit = _ratio(measured.throughput, baseline.tps), _ratio(measured.throughput, limit.tps)
    limit_ratio = _ratio(limit.tps, baseline.tps)
    return [
        Result(
            id=f"earn-limit-{clients}",
            title=f"Earn limit: an earn's statements as one function call from pgbench, {clients} clients, no "
            "application",
            measured=_pgbench_baseline(limit),
            baseline=_pgbench_baseline(baseline),
            ratio=limit_ratio,
            goal="diagnostic: what this machine does for this work without the application",
            met=None,
            checks=[f"{limit.transactions} calls, {limit.failed} failed"],
        ),
        Result(
            id=f"earn-{clients}",
            title=f"Earn: purchases through POST /api/v1/events, {clients} clients, Zipf over "
            f"{bench.sizes.members:,} members",
            measured={**_wrk_measured(measured, bench.last_pg_cpu), "ratio_to_earn_limit": to_limit},
            baseline=_pgbench_baseline(baseline),
            ratio=ratio,
            goal="≥ 0.35× pgbench TPC-B and ≥ 0.5× earn-limit at the same client count, p99 ≤ 25 ms",
            met=bool(ratio and to_limit and ratio >= 0.35 and to_limit >= 0.5 and measured.latency.p99 <= 25),
            checks=[f"{measured.requests} responses, all 201; {to_limit}× earn-limit ({limit.tps:,.1f}/s)"],
        ),
    ]


# --- 2. read -----------------------------------------------------------------------------------------------------


def read(bench: Bench, running: server.Running, clients: int) -> Result:
    baseline = pg.pgbench(bench.database, "pgbench -S", clients, bench.sizes.seconds, builtin="select-only")
    measured = bench.load(running, "members.lua", clients)
    _require_no_errors(measured, f"read at {clients} clients")
    ratio = _ratio(measured.throughput, baseline.tps)
    return Result(
        id=f"read-{clients}",
        title=f"Read: GET /api/v1/members/{{id}}, {clients} clients, Zipf over {bench.sizes.members:,} members",
        measured=_wrk_measured(measured, bench.last_pg_cpu),
        baseline=_pgbench_baseline(baseline),
        ratio=ratio,
        goal="≥ 0.1× pgbench -S, p99 ≤ 10 ms",
        met=bool(ratio and ratio >= 0.1 and measured.latency.p99 <= 10),
        checks=[f"{measured.requests} responses, all 200"],
    )


# --- 3. hot member -----------------------------------------------------------------------------------------------


HOT_LINE = Line("CUP", "merch", Decimal(1), Decimal("10.00"))


def expected_balance(program: Program, at: datetime, events: int) -> int:
    """What ``events`` identical 10 EUR purchases at ``at`` give one fresh member (50 welcome points), one after the
    other, by the program's own rules (the tier multiplier rises as the member's credits cross each threshold): the
    serial answer, which concurrent processing must reproduce exactly."""
    assert program.tiers is not None
    balance, credits = 50, 0
    facts = EventFacts("purchase", at, (HOT_LINE,))
    for _ in range(events):
        tier = program.tiers.qualifying(credits)
        evaluation = evaluate(
            program.rules, Context(facts, MemberFacts(tier.code, tier.multiplier), program.zone), program.rounding
        )
        balance += evaluation.points
        credits += evaluation.points
    return balance


def _settled_event_count(bench: Bench, external_id: str) -> int:
    """The member's recorded events once requests still in flight when the load stopped have committed."""
    last = -1
    while True:
        with unit_of_work(bench.engine) as session:
            member_id = session.execute(
                select(Member.id).where(
                    Member.program_id == bench.program.program_id, Member.external_id == external_id
                )
            ).scalar_one()
            count = int(session.execute(select(func.count()).where(Event.member_id == member_id)).scalar_one())
        if count == last:
            return count
        last = count
        time.sleep(1.0)


def hot(bench: Bench, running: server.Running, clients: int) -> Result:
    fixture.members(bench.engine, bench.program, 1, bench.now - timedelta(days=30), prefix=f"hot{clients}-")
    member = f"hot{clients}-1"
    baseline = pg.pgbench(
        bench.database, "single-row UPDATE loop", clients, bench.sizes.seconds, script="hot_update.sql"
    )
    measured = bench.load(running, "events.lua", clients, {"BENCH_HOT_MEMBER": member})
    _require_no_errors(measured, f"hot member at {clients} clients")
    recorded = _settled_event_count(bench, member)
    response = httpx.get(
        f"{running.url}/api/v1/members/{member}", headers={"Authorization": f"Bearer {bench.program.key}"}, timeout=30
    )
    available = int(response.json()["points"]["available"])
    expected = expected_balance(bench.program.version.program, bench.now, recorded)
    if available != expected:
        raise RuntimeError(f"hot member {member}: balance {available}, expected {expected} for {recorded} events")
    ratio = _ratio(measured.throughput, baseline.tps)
    return Result(
        id=f"hot-{clients}",
        title=f"Hot member: every purchase for one member, {clients} clients",
        measured=_wrk_measured(measured, bench.last_pg_cpu),
        baseline=_pgbench_baseline(baseline),
        ratio=ratio,
        goal="≥ 0.3× a raw single-row update loop at the same concurrency; no lost update",
        met=bool(ratio and ratio >= 0.3),
        checks=[
            f"{recorded} events recorded for {member} (warm-up included); available balance {available} = "
            f"{expected}, the serial answer for {recorded} purchases: no lost update"
        ],
    )


# --- 4. history import -------------------------------------------------------------------------------------------


COPY_TABLE = """
CREATE TABLE bench_order_rows (
    order_id text, member_external_id text, occurred_at timestamptz, currency text, sku text, category text,
    quantity numeric, unit_price numeric, shipping numeric
)"""


def history_import(bench: Bench) -> Result:
    target = fixture.program(bench.engine, "bench-import")
    path = bench.workdir / "orders.csv"
    started = time.monotonic()
    rows = orders.write_csv(
        path, orders=bench.sizes.import_orders, members=bench.sizes.import_members, until=bench.now - timedelta(days=1)
    )
    generated = time.monotonic() - started
    # Baseline: PostgreSQL COPY of the very same file into a plain table (no indexes, no rules, no ledger).
    bench.database.execute(COPY_TABLE)
    with psycopg.connect(bench.database.url) as connection:
        started = time.monotonic()
        with (
            connection.cursor() as cursor,
            cursor.copy("COPY bench_order_rows FROM STDIN WITH (FORMAT csv, HEADER true)") as copy,
            path.open("rb") as handle,
        ):
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        connection.commit()
        copy_seconds = time.monotonic() - started
    command = [str(server.PUNCHCARD), "--database-url", bench.database.url, "import", "orders", str(path)]
    command += ["--program", target.slug, "--format", "csv"]
    machine_before = CpuSample.now()
    started = time.monotonic()
    with (bench.workdir / "import.log").open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        _, status, usage = os.wait4(process.pid, 0)
    seconds = time.monotonic() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"punchcard import failed; see {bench.workdir / 'import.log'}")
    busy = CpuSample.now().busy_share_since(machine_before)
    with unit_of_work(bench.engine) as session:
        recorded = int(session.execute(select(func.count()).where(Event.program_id == target.program_id)).scalar_one())
    if recorded != bench.sizes.import_orders:
        raise RuntimeError(f"import recorded {recorded} events, expected {bench.sizes.import_orders}")
    # Running it again must import nothing (idempotent by order id).
    again = subprocess.run(command, capture_output=True, text=True, check=True)
    with unit_of_work(bench.engine) as session:
        after = int(session.execute(select(func.count()).where(Event.program_id == target.program_id)).scalar_one())
    if after != recorded:
        raise RuntimeError(f"a second import added {after - recorded} events: {again.stdout}")
    per_second = bench.sizes.import_orders / seconds
    copy_per_second = bench.sizes.import_orders / copy_seconds
    return Result(
        id="import",
        title=f"History import: punchcard import orders, {bench.sizes.import_orders:,} orders ({rows:,} CSV rows) "
        f"for {bench.sizes.import_members:,} members",
        measured={
            "orders": bench.sizes.import_orders,
            "rows": rows,
            "seconds": round(seconds, 2),
            "per_second": round(per_second, 1),
            "cpu_cores": {
                "importer": round((usage.ru_utime + usage.ru_stime) / seconds, 2),
                "machine_busy_share": round(busy, 2),
            },
            "file_generated_seconds": round(generated, 1),
            "command": " ".join(command).replace(str(bench.workdir), "<tmp>"),
        },
        baseline={
            "name": "COPY of the same CSV into a plain table",
            "seconds": round(copy_seconds, 2),
            "per_second": round(copy_per_second, 1),
            "rows_per_second": round(rows / copy_seconds, 1),
        },
        ratio=_ratio(per_second, copy_per_second),
        goal="≥ 10,000 orders/s",
        met=per_second >= 10_000,
        checks=[f"{recorded} events recorded; a second run imported nothing"],
    )


# --- 5. nightly jobs ---------------------------------------------------------------------------------------------


def nightly(bench: Bench) -> list[Result]:
    target = fixture.program(bench.engine, "bench-nightly")
    started = time.monotonic()
    fixture.nightly(bench.engine, target, bench.sizes.nightly_members, bench.sizes.nightly_lots_per_member, bench.now)
    generated = time.monotonic() - started
    lots = bench.sizes.nightly_members * bench.sizes.nightly_lots_per_member
    report = jobs.run(bench.engine, at=bench.now, now=bench.now, only=[target.slug], workers=JOB_WORKERS)
    again = jobs.run(bench.engine, at=bench.now, now=bench.now, only=[target.slug], workers=JOB_WORKERS)
    if again.lots_expired:
        raise RuntimeError(f"a second run expired {again.lots_expired} more lots")
    size = f"{bench.sizes.nightly_members:,} members, {lots:,} lots"
    common = {"fixture_generated_seconds": round(generated, 1), "batch_size": 1000, "workers": JOB_WORKERS}
    expiry_seconds = report.seconds.get("vest", 0) + report.seconds.get("repay_debts", 0) + report.seconds["expire"]
    return [
        Result(
            id="nightly-expiry",
            title=f"Nightly expiry (vest, repay debts, expire): {size}",
            measured={
                "seconds": round(expiry_seconds, 2),
                "steps_seconds": {
                    step: round(report.seconds.get(step, 0), 2) for step in ("vest", "repay_debts", "expire")
                },
                "lots_expired": report.lots_expired,
                "second_run_seconds": round(
                    again.seconds.get("vest", 0) + again.seconds.get("repay_debts", 0) + again.seconds["expire"], 2
                ),
                **common,
            },
            baseline={},
            ratio=None,
            goal="≤ 60 s",
            met=expiry_seconds <= 60,
            checks=[f"{report.lots_expired} lots expired; a second run expired none"],
        ),
        Result(
            id="nightly-tier-review",
            title=f"Nightly tier review: {size}",
            measured={
                "seconds": round(report.seconds["tier_review"], 2),
                "members_reviewed": report.members_reviewed,
                **common,
            },
            baseline={},
            ratio=None,
            goal="≤ 60 s",
            met=report.seconds["tier_review"] <= 60,
            checks=[f"{report.members_reviewed} members reviewed"],
        ),
    ]


# --- 6. embedded (SQLite) ----------------------------------------------------------------------------------------


def raw_sqlite(path: Path, seconds: float) -> tuple[int, float, Latency]:
    """Durable SQLite transactions shaped like one earn (read the member, insert the event, a lot, three entries and
    the order, update the event's response), in WAL mode with ``synchronous=FULL`` as Punchcard runs it."""
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=FULL")
    connection.executescript(
        """
        CREATE TABLE m (id INTEGER PRIMARY KEY, external_id TEXT UNIQUE, tier TEXT);
        CREATE TABLE e (id INTEGER PRIMARY KEY, external_id TEXT UNIQUE, member_id INT, body TEXT, response TEXT);
        CREATE TABLE l (id INTEGER PRIMARY KEY, member_id INT, amount INT, remaining INT, expires_at TEXT);
        CREATE INDEX l_m ON l (member_id);
        CREATE TABLE j (id INTEGER PRIMARY KEY, member_id INT, account TEXT, amount INT, lot_id INT, event_id INT);
        CREATE INDEX j_m ON j (member_id, account, id);
        CREATE TABLE o (id INTEGER PRIMARY KEY, order_id TEXT UNIQUE, member_id INT, lines TEXT, lot_id INT);
        """
    )
    connection.executemany("INSERT INTO m (external_id, tier) VALUES (?, 'bronze')", ((f"m{n}",) for n in range(2000)))
    latencies: list[float] = []
    count = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        connection.execute("BEGIN IMMEDIATE")
        member = connection.execute("SELECT id FROM m WHERE external_id = ?", (f"m{count % 2000}",)).fetchone()[0]
        event = connection.execute(
            "INSERT INTO e (external_id, member_id, body, response) VALUES (?, ?, '{}', '{}')", (f"e{count}", member)
        ).lastrowid
        lot = connection.execute(
            "INSERT INTO l (member_id, amount, remaining, expires_at) VALUES (?, 30, 30, '2030-01-01')", (member,)
        ).lastrowid
        connection.executemany(
            "INSERT INTO j (member_id, account, amount, lot_id, event_id) VALUES (?, ?, ?, ?, ?)",
            [(member, "points", 20, lot, event), (member, "points", 10, lot, event), (member, "tier", 30, None, event)],
        )
        connection.execute(
            "INSERT INTO o (order_id, member_id, lines, lot_id) VALUES (?, ?, '[]', ?)", (f"o{count}", member, lot)
        )
        connection.execute("UPDATE e SET response = '{\"ok\": 1}' WHERE id = ?", (event,))
        connection.execute("COMMIT")
        latencies.append((time.perf_counter() - started) * 1000)
        count += 1
    connection.close()
    return count, seconds, percentiles(latencies)


def embedded(bench: Bench, clients: int) -> Result:
    folder = Path(tempfile.mkdtemp(prefix="embedded-", dir=bench.workdir))
    raw_count, raw_seconds, raw_latency = raw_sqlite(folder / "raw.db", bench.sizes.seconds)
    url = f"sqlite:///{folder / 'punchcard.db'}"
    engine = get_engine(url)
    upgrade(engine)
    program = fixture.program(engine, "bench")
    fixture.members(engine, program, bench.sizes.members, bench.now - timedelta(days=30))
    engine.dispose()
    saved = bench.program
    bench.program = program
    try:
        with bench.serve(url, workers=bench.config.sqlite_workers) as running:
            measured = bench.load(running, "events.lua", clients)
    finally:
        bench.program = saved
    _require_no_errors(measured, "embedded earn")
    raw_per_second = raw_count / raw_seconds
    ratio = _ratio(measured.throughput, raw_per_second)
    return Result(
        id="embedded",
        title=f"Embedded: earn on SQLite (WAL, synchronous=FULL), {clients} clients, "
        f"{bench.sizes.members:,} members, {bench.config.sqlite_workers} worker(s)",
        measured=_wrk_measured(measured, 0.0),
        baseline={
            "name": "raw durable SQLite transactions of the same shape (Python sqlite3, one connection)",
            "transactions": raw_count,
            "seconds": raw_seconds,
            "per_second": round(raw_per_second, 1),
            "latency_ms": raw_latency.as_dict(),
        },
        ratio=ratio,
        goal="≥ 0.25× raw",
        met=bool(ratio and ratio >= 0.25),
        checks=[f"{measured.requests} responses, all 201"],
    )


def as_dict(result: Result) -> dict[str, Any]:
    return asdict(result)


def python() -> str:
    return sys.version.split()[0]
