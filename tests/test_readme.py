"""The README's commands, run as they are written, so the README cannot rot: the two set-up commands of its first
screen, the curl walk-through against the demo they start, and "Running it for real" from a fresh database.

The commands name port 8000, so the part that serves holds a lock file while it runs: two test runs on one machine
take turns instead of failing on each other's port. Something else on port 8000 fails the test with a message that
says so: the README's commands cannot work as written on such a machine either.
"""

from __future__ import annotations

import fcntl
import os
import re
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from punchcard.kit import ports

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
PORT = 8000
PORT_LOCK = Path(tempfile.gettempdir()) / f"punchcard-readme-port-{PORT}.lock"


def shell_block(after: str) -> str:
    """The first ```sh block after the heading or text ``after``."""
    found = re.search(r"```sh\n(.*?)```", README[README.index(after) :], re.DOTALL)
    assert found is not None, f"no shell block after {after!r}"
    return found.group(1)


def commands(block: str) -> list[str]:
    """The block's command lines, comments stripped (a ``#`` inside quotes is kept)."""
    lines = (line.split("  #", 1)[0].split(" # ", 1)[0].rstrip() for line in block.splitlines())
    return [line for line in lines if line and not line.startswith("#")]


@contextmanager
def port_for_the_readme() -> Iterator[None]:
    with PORT_LOCK.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        assert ports.is_free("127.0.0.1", PORT), f"port {PORT} is in use: the README's commands cannot run as written"
        yield


@contextmanager
def running(command: str, cwd: Path, log: Path, environment: dict[str, str]) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` run by bash in the background, its output in ``log``; stopped (the whole group) afterwards."""
    with log.open("wb") as output:
        process = subprocess.Popen(
            ["bash", "-c", command],
            cwd=cwd,
            stdout=output,
            stderr=subprocess.STDOUT,
            env=environment,
            start_new_session=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=60)


def wait_until(ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path, *, within: float = 300) -> None:
    """Poll ``ready()`` until it holds; fail with the log if the process ends first or it takes unreasonably long."""
    deadline = time.monotonic() + within
    while not ready():
        assert process.poll() is None, log.read_text(errors="replace")
        assert time.monotonic() < deadline, log.read_text(errors="replace")
        time.sleep(0.5)


def healthy() -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{PORT}/health", timeout=2).status_code == 200
    except httpx.TransportError:
        return False


def clean_environment() -> dict[str, str]:
    """The shell a reader types in: none of the test run's own settings."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PUNCHCARD_")}


def test_the_first_screen_gives_two_commands_and_ci_runs_the_second() -> None:
    first_screen = README[: README.index("\n## ")]
    assert commands(shell_block("On a fresh machine")) == ["./scripts/demo", "./scripts/test"]
    assert "./scripts/demo" in first_screen
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def test_the_demo_starts_as_written_and_the_curl_walk_through_works_against_it(tmp_path: Path) -> None:
    walk_through = shell_block("## Try it with curl")
    assert walk_through.startswith("KEY=pc_adm_...")  # the one placeholder: the key the demo prints
    log = tmp_path / "demo.log"
    with port_for_the_readme(), running("./scripts/demo", ROOT, log, clean_environment()) as demo:
        wait_until(healthy, demo, log)
        key = re.search(r"Bearer (pc_adm_\S+)'", log.read_text())
        assert key is not None, log.read_text()
        script = walk_through.replace("KEY=pc_adm_...", f"KEY={key.group(1)}", 1)
        done = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", script],
            cwd=tmp_path,  # the walk-through keeps an answer in a file, as a reader's shell would
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    answers = done.stdout
    assert '"error"' not in answers, answers
    assert '"event_id":"evt-1"' in answers
    assert '"balance":{"available":109,' in answers  # the welcome bonus and the first order's 59 points
    assert '"valid":true' in answers  # the coupon the walk-through redeemed, validated
    assert '"status":"accepted"' in answers


def test_running_it_for_real_works_as_written_from_a_fresh_database(tmp_path: Path) -> None:
    block = commands(shell_block("## Running it for real"))
    long_running = [line for line in block if " serve " in line or " worker " in line]
    assert len(long_running) == 2
    for name in (".venv", "examples"):  # the commands' relative paths, from a folder of the reader's own
        (tmp_path / name).symlink_to(ROOT / name)
    one_off = "\n".join(line for line in block if line not in long_running)
    environment = clean_environment()
    done = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", one_off],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        env=environment,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "bean-there" in done.stdout
    assert (tmp_path / "punchcard.db").exists()

    exports = "\n".join(line for line in block if line.startswith("export "))
    serve, worker = long_running
    with port_for_the_readme(), running(f"{exports}\n{serve}", tmp_path, tmp_path / "serve.log", environment) as up:
        wait_until(healthy, up, tmp_path / "serve.log")
    worker_log = tmp_path / "worker.log"
    with running(f"{exports}\n{worker}", tmp_path, worker_log, environment) as working:
        wait_until(lambda: "Processing accepted events" in worker_log.read_text(), working, worker_log)
        os.killpg(working.pid, signal.SIGTERM)
        assert working.wait(timeout=60) in (0, -signal.SIGTERM)
