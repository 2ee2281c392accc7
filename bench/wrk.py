"""Driving load with ``wrk`` (a compiled, event-driven generator) and Lua scripts committed in ``bench/lua``."""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from bench.machine import CpuSample, tree_cpu_seconds
from bench.stats import Latency

LUA = Path(__file__).resolve().parent / "lua"


@dataclass(frozen=True)
class WrkResult:
    clients: int
    requests: int
    seconds: float
    throughput: float
    latency: Latency
    errors: dict[str, int]
    wrk_cpu_cores: float
    server_cpu_cores: float
    machine_busy: float
    command: str


def run(
    url: str, script: str, *, clients: int, seconds: float, env: dict[str, str], server_pid: int | None = None
) -> WrkResult:
    """Run ``wrk`` with ``clients`` connections for ``seconds``; returns what it measured and the CPU it took."""
    threads = max(1, min(clients, 2))
    command = ["wrk", "-t", str(threads), "-c", str(clients), "-d", f"{max(seconds, 1):.0f}s", "--timeout", "30s"]
    command += ["-s", str(LUA / script), url]
    server_before = tree_cpu_seconds(server_pid) if server_pid else 0.0
    machine_before = CpuSample.now()
    started = time.monotonic()
    process = subprocess.Popen(
        command, env={**os.environ, **env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.monotonic() - started
    busy = CpuSample.now().busy_share_since(machine_before)
    server_cpu = (tree_cpu_seconds(server_pid) - server_before) if server_pid else 0.0
    output = process.stdout.read() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0 or "BENCH_JSON" not in output:
        error = process.stderr.read() if process.stderr else ""
        raise RuntimeError(f"wrk failed: {output} {error}")
    found = json.loads(output.split("BENCH_JSON", 1)[1].strip().splitlines()[0])
    duration = found["duration_us"] / 1e6
    errors = {
        name: int(found[name])
        for name in ("connect_errors", "read_errors", "write_errors", "status_errors", "timeouts")
        if found[name]
    }
    return WrkResult(
        clients=clients,
        requests=int(found["requests"]),
        seconds=round(duration, 2),
        throughput=round(found["requests"] / duration, 1),
        latency=Latency(
            round(found["mean_us"] / 1000, 3),
            found["p50_us"] / 1000,
            found["p99_us"] / 1000,
            found["p999_us"] / 1000,
            found["max_us"] / 1000,
        ),
        errors=errors,
        wrk_cpu_cores=round((usage.ru_utime + usage.ru_stime) / elapsed, 2),
        server_cpu_cores=round(server_cpu / elapsed, 2),
        machine_busy=round(busy, 2),
        command=" ".join(command),
    )
