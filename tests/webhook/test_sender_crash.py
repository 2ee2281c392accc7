"""A sender killed with SIGKILL in the middle of posting loses nothing: 1,000 purchases give 1,000 points.earned
deliveries to a real receiver, each event id at least once, after ``punchcard jobs run`` is killed mid-batch and run
again once its lease on the deliveries it was sending has passed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from datetime import timedelta

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.outbox.models import OutboxEvent
from punchcard.webhook.models import WebhookDelivery
from tests.clock import NOW
from tests.factories import ApiClient, line
from tests.invariants.test_group_commit_crash import PUNCHCARD
from tests.receiver import Received, receiving

PURCHASES = 1000
KILL_AT = 300


def jobs_run(database_url: str, moment: str) -> subprocess.Popen[str]:
    environment = {**os.environ, "PUNCHCARD_FIXED_NOW": moment, "PUNCHCARD_WEBHOOKS_ALLOW_PRIVATE": "true"}
    command = [str(PUNCHCARD), "--database-url", database_url, "jobs", "run", "--at", NOW.isoformat()]
    return subprocess.Popen(command, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def test_a_sender_killed_mid_batch_loses_no_event(api: ApiClient, engine: Engine, database_url: str) -> None:
    with receiving() as receiver:
        created = api.post("/api/v1/webhooks", {"url": receiver.url, "events": ["points.earned"]})
        assert created.status_code == 201, created.text
        members = [api.member() for _ in range(50)]
        for index in range(PURCHASES):
            api.purchase(members[index % 50], [line("BEANS", "coffee-beans", "10.00")], order_id=f"kill-{index}")

        # When the sender is killed as the receiver takes its 300th request
        first = jobs_run(database_url, NOW.isoformat())

        def kill_the_sender(request: Received) -> None:
            if len(receiver.requests) == KILL_AT:
                os.kill(first.pid, signal.SIGKILL)

        receiver.on_request = kill_the_sender
        first.communicate(timeout=300)
        assert first.returncode == -signal.SIGKILL
        receiver.on_request = None
        # And runs again after its lease on what it was sending has passed
        second = jobs_run(database_url, (NOW + timedelta(minutes=2)).isoformat())
        _, errors = second.communicate(timeout=300)
        assert second.returncode == 0, errors

    with Session(engine) as session:
        earned = set(
            session.execute(
                select(OutboxEvent.id).where(
                    OutboxEvent.program_id == api.program_id, OutboxEvent.type == "points.earned"
                )
            ).scalars()
        )
        statuses = session.execute(
            select(WebhookDelivery.event_id, WebhookDelivery.status).where(WebhookDelivery.event_id.in_(earned))
        ).all()
    assert len(earned) == PURCHASES + 50  # each purchase's points, and each member's welcome bonus
    received = [int(json.loads(request.body)["id"]) for request in receiver.requests]
    assert set(received) == earned  # every event at least once, none missing
    assert len(received) - len(set(received)) <= 1  # the one the killed sender was waiting on came again
    assert sorted(event_id for event_id, _ in statuses) == sorted(earned)  # one delivery per event
    assert {status for _, status in statuses} == {"delivered"}
