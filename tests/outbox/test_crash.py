"""A server killed with SIGKILL between committing changes and handing their events to the consumers loses none of
them: the events were committed with the changes, and the next dispatcher (here ``punchcard jobs run``) delivers
each to the activity log exactly once, including those the killed server was delivering when it died."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from punchcard.event.models import Event
from punchcard.outbox.models import OutboxEvent
from punchcard.staff.models import AuditEntry
from tests.clock import NOW
from tests.factories import ApiClient
from tests.invariants.test_group_commit_crash import PUNCHCARD, purchase, send_until_killed, server


def test_events_committed_before_a_kill_are_all_delivered_once_afterwards(
    api: ApiClient, engine: Engine, database_url: str, tmp_path: Path
) -> None:
    # Given ten members and 200 purchases for them, sent by sixteen clients to a server that dispatches as it goes
    members = [api.member() for _ in range(10)]
    run = uuid.uuid4().hex[:8]
    events = [purchase(members[i % 10], i, run) for i in range(200)]
    headers = {"Authorization": f"Bearer {api.key}"}

    # When the server is killed after the first eighty answers
    with server(database_url, tmp_path / "server.log") as (url, process):
        answered = send_until_killed(url, process, events, headers, kill_after=80)
    assert 80 <= len(answered) < 200

    # And the scheduled jobs run afterwards (they drain the outbox)
    environment = {**os.environ, "PUNCHCARD_FIXED_NOW": NOW.isoformat()}
    command = [str(PUNCHCARD), "--database-url", database_url, "jobs", "run", "--at", NOW.isoformat()]
    finished = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=300, check=False)
    assert finished.returncode == 0, finished.stderr

    # Then every purchase that was committed has its points.earned event, and every event of the program (enrolments,
    # welcome bonuses, purchases) is in the activity log exactly once
    with Session(engine) as session:
        committed = set(
            session.execute(
                select(Event.external_id).where(
                    Event.program_id == api.program_id, Event.external_id.like(f"crash-{run}-%")
                )
            ).scalars()
        )
        told = [
            payload["event"]
            for payload in session.execute(
                select(OutboxEvent.payload).where(
                    OutboxEvent.program_id == api.program_id, OutboxEvent.type == "points.earned"
                )
            ).scalars()
            if payload["event"] is not None
        ]
        outbox_ids = set(
            session.execute(select(OutboxEvent.id).where(OutboxEvent.program_id == api.program_id)).scalars()
        )
        logged = session.execute(
            select(AuditEntry.outbox_event_id, func.count())
            .where(AuditEntry.program_id == api.program_id, AuditEntry.outbox_event_id.is_not(None))
            .group_by(AuditEntry.outbox_event_id)
        ).all()
    assert set(answered) <= committed
    assert sorted(told) == sorted(committed)
    assert {event_id for event_id, _ in logged} == outbox_ids
    assert {count for _, count in logged} == {1}
    with Session(engine) as session:
        rows = session.execute(
            select(OutboxEvent.type, func.count())
            .where(OutboxEvent.program_id == api.program_id)
            .group_by(OutboxEvent.type)
        ).all()
    kinds = {kind: int(count) for kind, count in rows}
    # (besides the rewards the purchases reached, and Silver for a member whose committed purchases reached 500 points:
    # how many did depends on the moment of the kill)
    assert (kinds["member.enrolled"], kinds["points.earned"]) == (10, 10 + len(committed))
