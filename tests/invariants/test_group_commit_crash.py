"""A server killed mid-load (SIGKILL: no shutdown, batches cut off mid-transaction) loses no answered event and, once
restarted, counts every retried event exactly once: group commit answers only what it committed."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from punchcard.event.models import Event
from tests.clock import NOW
from tests.factories import ApiClient, earned, line

PUNCHCARD = Path(sys.executable).with_name("punchcard")


@contextmanager
def server(database_url: str, log: Path) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``punchcard serve`` in its own process, as an operator runs it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [str(PUNCHCARD), "--database-url", database_url, "serve", "--port", str(port), "--jobs-every", "0"]
    with log.open("ab") as output:
        environment = {**os.environ, "PUNCHCARD_FIXED_NOW": NOW.isoformat()}  # the server's clock, set by the test
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, start_new_session=True, env=environment
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not start"
            time.sleep(0.1)
        yield url, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def send_until_killed(
    url: str, process: subprocess.Popen[bytes], events: list[dict[str, Any]], headers: dict[str, str], kill_after: int
) -> dict[str, httpx.Response]:
    """Sixteen clients send ``events``; the server is SIGKILLed as soon as ``kill_after`` answers came. Returns the
    answers by event id (those cut off by the kill have none)."""
    answered: dict[str, httpx.Response] = {}
    lock = threading.Lock()

    def send(body: dict[str, Any]) -> None:
        try:
            response = httpx.post(f"{url}/api/v1/events", json=body, headers=headers, timeout=30)
        except httpx.HTTPError:
            return  # cut off by the kill: no answer
        with lock:
            answered[body["id"]] = response
            if len(answered) == kill_after:
                os.killpg(process.pid, signal.SIGKILL)

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(send, events))
    return answered


def purchase(member: str, index: int, run: str) -> dict[str, Any]:
    return {
        "id": f"crash-{run}-{index}",
        "type": "purchase",
        "member_external_id": member,
        "occurred_at": "2026-06-01T12:00:00+00:00",
        "order_id": f"crash-{run}-{index}",
        "currency": "EUR",
        "lines": [line("BEANS-1", "coffee-beans", "12.50", 2)],  # 50 points
    }


def test_a_killed_server_loses_no_answered_event_and_retries_count_once(
    api: ApiClient, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    # Given ten members and 300 purchases for them
    members = [api.member() for _ in range(10)]
    run = uuid.uuid4().hex[:8]
    events = [purchase(members[i % 10], i, run) for i in range(300)]
    headers = {"Authorization": f"Bearer {api.key}"}

    # When sixteen clients send them and the server is killed after the first hundred answers
    with server(database_url, tmp_path / "server.log") as (url, process):
        answered = send_until_killed(url, process, events, headers, kill_after=100)
    assert 100 <= len(answered) < 300, "the kill should have cut the load off part-way"
    assert {response.status_code for response in answered.values()} == {201}

    # Then after a restart, retrying every event: each one answered before the kill is replayed with its very answer,
    # and the others are recorded now
    with (
        server(database_url, tmp_path / "server.log") as (url, _),
        httpx.Client(base_url=url, headers=headers, timeout=30) as client,
    ):
        retried = {body["id"]: client.post("/api/v1/events", json=body) for body in events}
    for event_id, first in answered.items():
        assert retried[event_id].status_code == 200
        assert retried[event_id].json() == first.json()
    assert {response.status_code for response in retried.values()} <= {200, 201}

    # ...and every purchase counts exactly once: 300 events, and each member's balance is the welcome bonus plus what
    # their thirty purchases say they earned (tiers raise it as they go), no more
    with Session(engine) as session:
        count = session.execute(
            select(func.count()).where(Event.program_id == api.program_id, Event.external_id.like(f"crash-{run}-%"))
        ).scalar_one()
    assert count == 300
    for index, member in enumerate(members):
        mine = [retried[body["id"]].json() for body in events[index::10]]
        assert api.available(member) == 50 + sum(earned(body) for body in mine)
