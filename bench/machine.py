"""What the numbers were measured on: the machine, its load, and PostgreSQL's settings."""

from __future__ import annotations

import contextlib
import os
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

PG_SETTINGS = (
    "fsync",
    "synchronous_commit",
    "full_page_writes",
    "wal_level",
    "commit_delay",
    "shared_buffers",
    "max_connections",
    "work_mem",
    "max_wal_size",
    "checkpoint_timeout",
)


def load_average() -> tuple[float, float, float]:
    return os.getloadavg()


def memory_gib() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            return round(int(line.split()[1]) / 1024 / 1024, 1)
    return 0.0


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


@dataclass
class CpuSample:
    """Cumulative CPU time of the whole machine (jiffies): busy and total, from ``/proc/stat``."""

    busy: int
    total: int

    @classmethod
    def now(cls) -> CpuSample:
        fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return cls(sum(fields) - idle, sum(fields))

    def busy_share_since(self, earlier: CpuSample) -> float:
        """Share of all cores' time that was busy between ``earlier`` and this sample (0..1)."""
        total = self.total - earlier.total
        return (self.busy - earlier.busy) / total if total else 0.0


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its children so far (children only once they are reaped)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(value) for value in fields[11:15])  # utime, stime, cutime, cstime
    return ticks / os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of ``root`` and all its live descendants (e.g. a server and its worker processes)."""
    total = 0.0
    pending = [root]
    while pending:
        pid = pending.pop()
        total += process_cpu_seconds(pid)
        children = Path(f"/proc/{pid}/task/{pid}/children")
        with contextlib.suppress(OSError):
            pending.extend(int(child) for child in children.read_text().split())
    return total


def postgres_cpu_seconds() -> float:
    """CPU seconds used so far by every PostgreSQL process on the machine (server and backends)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip() in {"postgres", "postmaster"}:
                total += process_cpu_seconds(int(entry.name))
        except OSError:
            continue
    return total


def describe(pg_settings: dict[str, str], pg_version: str) -> dict[str, object]:
    git = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    dirty = subprocess.run(["git", "status", "--porcelain"], capture_output=True, text=True, check=False)
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        "memory_gib": memory_gib(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": pg_version,
        "postgresql_settings": pg_settings,
        "git": git.stdout.strip() + (" (with uncommitted changes)" if dirty.stdout.strip() else ""),
    }
