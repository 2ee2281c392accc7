"""The dispatcher hands each committed event to each consumer that wants it once, retries a failing consumer with
backoff without holding up the others, gives up after the last attempt, and never delivers twice when several
dispatchers run at once. The activity log is its first consumer: every event shows in the console's audit log."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from datetime import datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.consumers import consumers
from punchcard.kit.clock import FixedClock
from punchcard.kit.db import session_factory
from punchcard.kit.settings import Settings
from punchcard.outbox.dispatcher import Consumer, Dispatcher
from punchcard.outbox.domain import MAX_ATTEMPTS, Message
from punchcard.outbox.models import OutboxDelivery, OutboxEvent
from punchcard.staff.models import AuditEntry
from tests.clock import NOW
from tests.factories import ApiClient, deliver_outbox, line


class Recorder:
    """A consumer that keeps what it was given for one program, and fails on the events it is told to."""

    def __init__(self, program_id: int, *, fail_on: set[str] | None = None, failures: int = 0) -> None:
        self.name = f"test-{uuid.uuid4().hex[:12]}"
        self.program_id = program_id
        self.fail_on = fail_on or set()
        self.failures_left = failures
        self.received: list[tuple[str, int]] = []
        self._lock = threading.Lock()

    def wants(self, event_type: str) -> bool:
        return event_type != "member.sign_in_link_requested"

    def handle(self, session: Session, messages: Sequence[Message], now: datetime) -> None:
        mine = [message for message in messages if message.program_id == self.program_id]
        if any(message.type in self.fail_on for message in mine) and self.failures_left != 0:
            if len(messages) == 1:  # an attempt of that event on its own (a batch that fails is split up)
                self.failures_left -= 1
            raise RuntimeError("the receiver is down")
        with self._lock:
            self.received.extend((message.type, message.id) for message in mine)


def dispatcher_with(engine: Engine, *extra: Consumer, clock: FixedClock | None = None) -> Dispatcher:
    """A dispatcher like the app's (the same consumers, so it takes none of their events away) plus ``extra``."""
    every = [*consumers(Settings(database_url=str(engine.url))), *extra]
    return Dispatcher(session_factory(engine), every, clock or FixedClock(NOW))


def deliveries(engine: Engine, consumer: str) -> list[OutboxDelivery]:
    with Session(engine) as session:
        query = select(OutboxDelivery).where(OutboxDelivery.consumer == consumer).order_by(OutboxDelivery.id)
        return list(session.execute(query).scalars())


def test_each_consumer_gets_each_event_once_however_often_it_is_drained(api: ApiClient, engine: Engine) -> None:
    # Given a consumer and a member who enrolled and bought
    recorder = Recorder(api.program_id)
    dispatcher = dispatcher_with(engine, recorder)
    member = api.member()
    api.purchase(member, [line("BEANS", "coffee-beans", "10.00")])
    # When the outbox is drained twice
    dispatcher.drain()
    dispatcher.drain()
    # Then the consumer got the three events once each, oldest first
    assert [event_type for event_type, _ in recorder.received] == ["member.enrolled", "points.earned", "points.earned"]
    assert len({event_id for _, event_id in recorder.received}) == 3


def test_two_dispatchers_at_once_deliver_each_event_once(api: ApiClient, engine: Engine) -> None:
    recorder = Recorder(api.program_id)
    first, second = dispatcher_with(engine, recorder), dispatcher_with(engine, recorder)
    members = [api.member() for _ in range(5)]
    for member in members:
        api.purchase(member, [line("BEANS", "coffee-beans", "10.00")])
    threads = [threading.Thread(target=dispatcher.drain) for dispatcher in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(recorder.received) == 15  # enrolled, welcome bonus, purchase for each of five members
    assert len({event_id for _, event_id in recorder.received}) == 15


def test_a_failing_consumer_is_tried_again_later_and_does_not_hold_up_the_others(
    api: ApiClient, engine: Engine
) -> None:
    # Given a consumer that fails twice on purchases' earnings, and one that never fails
    flaky = Recorder(api.program_id, fail_on={"points.earned"}, failures=2)
    steady = Recorder(api.program_id)
    clock = FixedClock(NOW)
    dispatcher = dispatcher_with(engine, flaky, steady, clock=clock)
    api.member()
    # When the outbox is drained
    dispatcher.drain()
    # Then the steady consumer has both events, the flaky one only the enrolment, with its failure on the earning
    # recorded (a delivery row exists only for an attempt that failed)
    assert [event_type for event_type, _ in steady.received] == ["member.enrolled", "points.earned"]
    assert [event_type for event_type, _ in flaky.received] == ["member.enrolled"]
    assert deliveries(engine, steady.name) == []
    [earned] = [d for d in deliveries(engine, flaky.name) if d.event_id in {i for _, i in steady.received}]
    assert earned.event_id == steady.received[1][1]
    assert (earned.attempts, earned.delivered_at, earned.last_error) == (1, None, "RuntimeError: the receiver is down")
    assert earned.next_attempt_at == NOW + timedelta(seconds=10)
    # When the clock reaches the retry, it fails once more and waits twice as long
    clock.set(NOW + timedelta(seconds=10))
    dispatcher.drain()
    assert deliveries(engine, flaky.name)[-1].next_attempt_at == NOW + timedelta(seconds=30)
    # And the third attempt succeeds
    clock.set(NOW + timedelta(seconds=30))
    dispatcher.drain()
    assert [event_type for event_type, _ in flaky.received] == ["member.enrolled", "points.earned"]
    assert (deliveries(engine, flaky.name)[-1].attempts, deliveries(engine, flaky.name)[-1].delivered_at) == (
        3,
        NOW + timedelta(seconds=30),
    )


def test_a_consumer_that_always_fails_is_given_up_after_the_last_attempt_and_the_row_stays(
    api: ApiClient, engine: Engine
) -> None:
    broken = Recorder(api.program_id, fail_on={"member.enrolled"}, failures=-1)
    clock = FixedClock(NOW)
    dispatcher = dispatcher_with(engine, broken, clock=clock)
    api.member()
    mine = {"member.enrolled"}
    for _ in range(MAX_ATTEMPTS):
        dispatcher.drain()
        clock.advance(timedelta(hours=1))
    dispatcher.drain()
    with Session(engine) as session:
        failed = session.execute(
            select(OutboxDelivery)
            .join(OutboxEvent, OutboxEvent.id == OutboxDelivery.event_id)
            .where(OutboxDelivery.consumer == broken.name, OutboxEvent.type.in_(mine))
        ).scalar_one()
    assert failed.attempts == MAX_ATTEMPTS
    assert failed.failed_at is not None
    assert failed.delivered_at is None
    assert [event_type for event_type, _ in broken.received] == ["points.earned"]


def test_every_event_shows_in_the_audit_log_once(api: ApiClient, engine: Engine, client: TestClient) -> None:
    # Given a member who enrolled, bought and had points adjusted
    member = api.member()
    api.purchase(member, [line("BEANS", "coffee-beans", "10.00")])
    api.post(f"/api/v1/members/{member}/adjustments", {"points": 5, "reason": "goodwill"})
    # When the app's outbox is delivered (twice: the second finds nothing to do)
    deliver_outbox(client)
    deliver_outbox(client)
    # Then the activity log has each event once, as "system", about the member
    with Session(engine) as session:
        entries = session.execute(
            select(AuditEntry.action, AuditEntry.staff_id, AuditEntry.target, AuditEntry.details)
            .where(AuditEntry.program_id == api.program_id, AuditEntry.outbox_event_id.is_not(None))
            .order_by(AuditEntry.outbox_event_id)
        ).all()
    assert [(action, staff, target) for action, staff, target, _ in entries] == [
        ("member.enrolled", None, f"member {member}"),
        ("points.earned", None, f"member {member}"),
        ("points.earned", None, f"member {member}"),
        ("points.adjusted", None, f"member {member}"),
    ]
    assert entries[-1].details == {"points": 5, "reason": "goodwill", "source": "api"}
