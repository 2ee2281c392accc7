"""The server under test: ``punchcard serve`` in its own process, exactly as an operator runs it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import httpx

PUNCHCARD = Path(sys.executable).with_name("punchcard")


@dataclass(frozen=True)
class Running:
    url: str
    pid: int
    workers: int
    pool_size: int


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(database_url: str, *, workers: int, pool_size: int, log: Path) -> Iterator[Running]:
    """Start ``punchcard serve --workers N --jobs-every 0 --no-access-log`` and wait until it answers."""
    port = free_port()
    command = [str(PUNCHCARD), "--database-url", database_url, "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", str(workers), "--jobs-every", "0", "--no-access-log"]
    env = {**os.environ, "PUNCHCARD_DATABASE_POOL_SIZE": str(pool_size)}
    start = log.stat().st_size if log.exists() else 0
    with log.open("ab") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"punchcard serve exited with {process.returncode}; see {log}")
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"punchcard serve did not answer within 60 s; see {log}")
            time.sleep(0.2)
        if workers > 1:
            _wait_for_workers(process.pid, workers, deadline)
        yield Running(url, process.pid, workers, pool_size)
    finally:
        # Only our own process group (the server and its workers): never anything else.
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    refuse_restarts(log, start)


RESTART = re.compile(rb"Child process \[\d+\] died")


def refuse_restarts(log: Path, start: int) -> None:
    """A worker the supervisor restarted lost the requests it held and served nothing while it came back: figures
    from such a run measure the restart, not the server, so the run fails instead of reporting them."""
    with log.open("rb") as output:
        output.seek(start)
        restarts = len(RESTART.findall(output.read()))
    if restarts:
        raise RuntimeError(f"a server worker was restarted {restarts} time(s) during the run; see {log}")


def _wait_for_workers(pid: int, workers: int, deadline: float) -> None:
    """uvicorn answers as soon as one worker is up; wait until all have started (they each import the app)."""
    children = Path(f"/proc/{pid}/task/{pid}/children")
    while time.monotonic() < deadline:
        try:
            count = len(children.read_text().split())
        except OSError:
            count = 0
        if count >= workers:
            time.sleep(2.0)  # each worker imports the app after it is forked
            return
        time.sleep(0.2)
