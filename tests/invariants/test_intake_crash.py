"""Accepted events survive ``kill -9``: of the server while it accepts and processes them, and of a worker while it
processes them. Every event answered ``202`` is processed, exactly once, and an event's effects and its outcome are
committed together (never one without the other)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from punchcard.event.models import Event
from punchcard.intake.models import IntakeEvent
from tests.clock import NOW
from tests.factories import ApiClient, earned
from tests.invariants.test_group_commit_crash import PUNCHCARD, purchase, server


def intake_counts(engine: Engine, program_id: int) -> dict[str, int]:
    """The program's intake by status, read without waiting for a writer: on SQLite through a plain reader (WAL lets
    it read beside the worker's transaction; the app's sessions would queue for the writers' turn)."""
    query = "SELECT status, count(*) FROM intake_events WHERE program_id = ? GROUP BY status"
    rows: Sequence[Any]
    if engine.dialect.name == "sqlite":
        with closing(sqlite3.connect(str(engine.url.database))) as reader:
            rows = reader.execute(query, (program_id,)).fetchall()
    else:
        with Session(engine) as session:
            rows = session.execute(text(query.replace("?", ":program")), {"program": program_id}).all()
    return {str(status): int(count) for status, count in rows}


def processed_but_not_recorded(engine: Engine, program_id: int) -> tuple[int, int]:
    """(events processed with no recorded event, recorded events whose intake row is still accepted): both must be
    zero at every moment, since an event and its outcome commit together."""
    with Session(engine) as session:
        recorded = select(Event.external_id).where(Event.program_id == program_id)
        lost = session.execute(
            select(func.count()).where(
                IntakeEvent.program_id == program_id,
                IntakeEvent.status == "processed",
                IntakeEvent.external_id.not_in(recorded),
            )
        ).scalar_one()
        early = session.execute(
            select(func.count()).where(
                IntakeEvent.program_id == program_id,
                IntakeEvent.status == "accepted",
                IntakeEvent.external_id.in_(recorded),
            )
        ).scalar_one()
    return int(lost), int(early)


def worker(database_url: str, log: Path, *arguments: str) -> subprocess.Popen[bytes]:
    environment = {**os.environ, "PUNCHCARD_FIXED_NOW": NOW.isoformat()}
    with log.open("ab") as output:
        return subprocess.Popen(
            [str(PUNCHCARD), "--database-url", database_url, "worker", *arguments],
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            env=environment,
        )


def balances_are_exact(api: ApiClient, engine: Engine, members: list[str], events: list[dict[str, Any]]) -> None:
    """Every member's balance is the welcome bonus plus what each of their purchases' responses says it earned."""
    with Session(engine) as session:
        rows = session.execute(
            select(IntakeEvent.external_id, IntakeEvent.status, IntakeEvent.outcome).where(
                IntakeEvent.program_id == api.program_id
            )
        ).all()
    outcomes = {external_id: (status, outcome) for external_id, status, outcome in rows}
    assert {status for status, _ in outcomes.values()} == {"processed"}
    for index, member in enumerate(members):
        mine = [outcomes[body["id"]][1] for body in events[index :: len(members)]]
        assert api.available(member) == 50 + sum(earned(response) for response in mine)


def test_a_worker_killed_while_processing_loses_nothing_and_doubles_nothing(
    api: ApiClient, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    # Given 2,000 accepted purchases for twenty members
    members = [api.member() for _ in range(20)]
    run = uuid.uuid4().hex[:8]
    events = [purchase(members[i % 20], i, run) for i in range(2000)]
    for start in (0, 1000):
        response = api.post("/api/v1/events/batch", {"events": events[start : start + 1000]})
        assert response.status_code == 202, response.text
    assert intake_counts(engine, api.program_id) == {"accepted": 2000}

    # When a worker process is killed (SIGKILL) part-way through
    process = worker(database_url, tmp_path / "worker.log", "--poll", "0.05")
    try:
        deadline = time.monotonic() + 120
        while intake_counts(engine, api.program_id).get("processed", 0) < 300:
            assert process.poll() is None, (tmp_path / "worker.log").read_text()
            assert time.monotonic() < deadline, "the worker processed nothing"
            time.sleep(0.02)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    counts = intake_counts(engine, api.program_id)
    assert 300 <= counts.get("processed", 0) < 2000, f"the kill should have cut the work off part-way: {counts}"

    # Then every event processed so far is recorded, and none is recorded without its outcome
    assert processed_but_not_recorded(engine, api.program_id) == (0, 0)

    # And a new worker finishes the rest: every event once, every balance exact
    finish = worker(database_url, tmp_path / "worker.log", "--until-idle")
    assert finish.wait(timeout=300) == 0, (tmp_path / "worker.log").read_text()
    assert intake_counts(engine, api.program_id) == {"processed": 2000}
    with Session(engine) as session:
        recorded = session.execute(
            select(func.count()).where(Event.program_id == api.program_id, Event.external_id.like(f"crash-{run}-%"))
        ).scalar_one()
    assert recorded == 2000
    balances_are_exact(api, engine, members, events)


def test_a_server_killed_while_accepting_and_processing_keeps_every_event_it_answered_202(
    api: ApiClient, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    # Given ten members and 600 purchases, sent with Prefer: respond-async by eight clients to a server whose own
    # worker processes them as they come
    members = [api.member() for _ in range(10)]
    run = uuid.uuid4().hex[:8]
    events = [purchase(members[i % 10], i, run) for i in range(600)]
    headers = {"Authorization": f"Bearer {api.key}", "Prefer": "respond-async"}
    answered: dict[str, int] = {}

    # When the server is SIGKILLed after 200 answers
    with server(database_url, tmp_path / "server.log") as (url, process):

        def send(body: dict[str, Any]) -> None:
            try:
                response = httpx.post(f"{url}/api/v1/events", json=body, headers=headers, timeout=30)
            except httpx.HTTPError:
                return  # cut off by the kill
            answered[body["id"]] = response.status_code
            if len(answered) == 200:
                os.killpg(process.pid, signal.SIGKILL)

        with ThreadPoolExecutor(8) as pool:
            list(pool.map(send, events))
    assert set(answered.values()) == {202}
    assert 200 <= len(answered) < 600
    assert processed_but_not_recorded(engine, api.program_id) == (0, 0)

    # Then every event answered 202 is in the intake, and after a restart every event (retried by the shop, as it
    # would for those it got no answer for) is processed exactly once
    with Session(engine) as session:
        kept = set(
            session.execute(select(IntakeEvent.external_id).where(IntakeEvent.program_id == api.program_id)).scalars()
        )
    assert set(answered) <= kept
    with (
        server(database_url, tmp_path / "server.log") as (url, _),
        httpx.Client(base_url=url, headers=headers, timeout=30) as client,
    ):
        for body in events:
            assert client.post("/api/v1/events", json=body).status_code == 202
    finish = worker(database_url, tmp_path / "worker.log", "--until-idle")
    assert finish.wait(timeout=300) == 0, (tmp_path / "worker.log").read_text()
    assert intake_counts(engine, api.program_id) == {"processed": 600}
    balances_are_exact(api, engine, members, events)
