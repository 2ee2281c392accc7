"""The PostgreSQL side of the bench: the dedicated database, server settings and the pgbench baselines."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import psycopg

from bench.machine import PG_SETTINGS, process_cpu_seconds
from bench.stats import Latency, percentiles

SQL = Path(__file__).resolve().parent / "sql"


@dataclass(frozen=True)
class Server:
    """Where PostgreSQL listens (``postgresql://user@host:port``) and the bench's own database on it."""

    base_url: str
    database: str

    @property
    def admin_url(self) -> str:
        return f"{self.base_url}/postgres"

    @property
    def url(self) -> str:
        return f"{self.base_url}/{self.database}"

    @property
    def host(self) -> str:
        return self.base_url.split("@", 1)[-1].split(":")[0]

    @property
    def port(self) -> str:
        rest = self.base_url.split("@", 1)[-1]
        return rest.split(":", 1)[1] if ":" in rest else "5432"

    @property
    def user(self) -> str:
        return self.base_url.removeprefix("postgresql://").split("@", 1)[0] or "postgres"

    def recreate(self) -> None:
        """Drop and create the bench's database; nothing else on the server is touched."""
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{self.database}"')

    def drop(self) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    def settings(self) -> tuple[str, dict[str, str]]:
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            version = str(connection.execute("SHOW server_version").fetchone()[0])  # type: ignore[index]
            rows = connection.execute(
                "SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s) ORDER BY name", [list(PG_SETTINGS)]
            ).fetchall()
        return version, {name: f"{setting}{' × ' + unit if unit else ''}" for name, setting, unit in rows}

    def execute(self, *statements: str) -> None:
        with psycopg.connect(self.url, autocommit=True) as connection:
            for statement in statements:
                connection.execute(statement)

    def scalar(self, query: str, *params: object) -> object:
        with psycopg.connect(self.url, autocommit=True) as connection:
            row = connection.execute(query, params).fetchone()
        return row[0] if row else None

    def backend_cpu_seconds(self) -> dict[int, float]:
        """CPU seconds so far of every backend connected to the bench's database, by process id."""
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            pids = [
                row[0]
                for row in connection.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [self.database]
                )
            ]
        return {pid: process_cpu_seconds(pid) for pid in pids}

    def pgbench_env(self) -> dict[str, str]:
        return {**os.environ, "PGHOST": self.host, "PGPORT": self.port, "PGUSER": self.user}


def backend_cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds the bench database's backends used between two samples (new backends count from zero)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


@dataclass(frozen=True)
class PgbenchResult:
    name: str
    clients: int
    transactions: int
    seconds: float
    tps: float
    latency: Latency
    failed: int
    cpu_cores: float
    command: str


def pgbench_init(server: Server, scale: int) -> float:
    """Create pgbench's tables in the bench database (server-side generation); returns seconds taken."""
    started = time.monotonic()
    subprocess.run(
        ["pgbench", "-i", "-q", "-I", "dtGvp", "-s", str(scale), server.database],
        env=server.pgbench_env(),
        check=True,
        capture_output=True,
    )
    return time.monotonic() - started


def pgbench(
    server: Server,
    name: str,
    clients: int,
    seconds: float,
    *,
    builtin: str | None = None,
    script: str | None = None,
    variables: Mapping[str, object] | None = None,
) -> PgbenchResult:
    """Run pgbench for ``seconds`` with ``clients`` connections and per-transaction logs for latency percentiles;
    ``variables`` are the script's (``-D``)."""
    threads = min(clients, os.cpu_count() or 1)
    with tempfile.TemporaryDirectory(prefix="pgbench-") as folder:
        command = ["pgbench", "-n", "-c", str(clients), "-j", str(threads), "-T", str(max(int(seconds), 1))]
        command += ["-l", "--log-prefix", f"{folder}/log"]
        if builtin:
            command += ["-b", builtin]
        if script:
            command += ["-f", str(SQL / script)]
        for variable, value in (variables or {}).items():
            command += ["-D", f"{variable}={value}"]
        command.append(server.database)
        process = subprocess.Popen(
            command, env=server.pgbench_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        started = time.monotonic()
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.monotonic() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        output = (process.stdout.read() if process.stdout else "") + (process.stderr.read() if process.stderr else "")
        if process.returncode != 0:
            raise RuntimeError(f"pgbench failed: {output}")
        latencies: list[float] = []
        for log in Path(folder).glob("log*"):
            for line in log.read_text().splitlines():
                fields = line.split()
                if len(fields) >= 3 and fields[2].isdigit():
                    latencies.append(int(fields[2]) / 1000)  # microseconds → ms
    transactions = int(_search(r"number of transactions actually processed: (\d+)", output))
    failed = int(_search(r"number of failed transactions: (\d+)", output, "0"))
    tps = float(_search(r"tps = ([\d.]+)", output))
    printed = " ".join(part if part != f"{folder}/log" else "<tmp>/log" for part in command)
    return PgbenchResult(
        name=name,
        clients=clients,
        transactions=transactions,
        seconds=round(elapsed, 2),
        tps=round(tps, 1),
        latency=percentiles(latencies),
        failed=failed,
        cpu_cores=round((usage.ru_utime + usage.ru_stime) / elapsed, 2),
        command=printed,
    )


def _search(pattern: str, text: str, default: str | None = None) -> str:
    found = re.search(pattern, text)
    if found:
        return found.group(1)
    if default is not None:
        return default
    raise RuntimeError(f"pgbench output has no {pattern!r}: {text}")


def have_pgbench() -> bool:
    return shutil.which("pgbench") is not None
