"""Group commit (``event.group_commit``): events that arrive together share one transaction, and each is answered only
after that transaction committed, exactly as if each had had its own."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from punchcard.event.group_commit import GroupCommit
from punchcard.event.models import Event
from punchcard.event.schemas import EventIn
from punchcard.event.service import Outcome
from punchcard.kit.db import session_factory
from punchcard.kit.errors import PunchcardError
from punchcard.kit.idempotency import request_hash
from punchcard.program import service as programs
from punchcard.program.domain import ProgramVersion
from tests.clock import NOW
from tests.factories import ApiClient, earned, line

T = TypeVar("T")


@pytest.fixture
def committer(engine: Engine) -> Iterator[GroupCommit]:
    group_commit = GroupCommit(session_factory(engine), max_batch=32)
    yield group_commit
    group_commit.close()


def in_own_loop(coroutine: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine on an event loop in a thread of its own: a browser test may have left one running on this."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine())).result()


def version_of(engine: Engine, api: ApiClient) -> ProgramVersion:
    with Session(engine) as session:
        return programs.current(session, api.program_id)


def purchase(member: str, *, event_id: str | None = None, order_id: str | None = None) -> EventIn:
    return EventIn.model_validate(
        {
            "id": event_id or f"evt-{uuid.uuid4().hex[:10]}",
            "type": "purchase",
            "member_external_id": member,
            "occurred_at": "2026-06-01T12:00:00+00:00",
            "order_id": order_id or f"O-{uuid.uuid4().hex[:10]}",
            "currency": "EUR",
            "lines": [line("BEANS-1", "coffee-beans", "12.50", 2)],  # 50 points
        }
    )


def arriving_together(
    committer: GroupCommit, version: ProgramVersion, events: list[EventIn]
) -> list[Outcome | PunchcardError | Exception]:
    """Submit every event at once, from one event loop, and collect each answer (or the error it was refused with)."""

    async def all_at_once() -> list[Outcome | BaseException]:
        now = NOW
        calls = [committer.record(version, body, request_hash(body.model_dump(mode="json")), now) for body in events]
        return await asyncio.gather(*calls, return_exceptions=True)

    answers = in_own_loop(all_at_once)
    assert all(isinstance(answer, Outcome | Exception) for answer in answers), answers
    return answers  # type: ignore[return-value]


def codes(answers: list[Any]) -> list[Any]:
    return [
        answer.status if isinstance(answer, Outcome) else getattr(answer, "code", type(answer).__name__)
        for answer in answers
    ]


def events_recorded(engine: Engine, api: ApiClient) -> int:
    with Session(engine) as session:
        return int(session.execute(select(func.count()).where(Event.program_id == api.program_id)).scalar_one())


@pytest.mark.parametrize("writers", [1, 4])
def test_events_arriving_together_share_transactions_and_each_counts_once(
    api: ApiClient, engine: Engine, writers: int
) -> None:
    # Given twelve members, and forty purchases for them arriving at once (several per member)
    members = [api.member() for _ in range(12)]
    events = [purchase(members[i % 12]) for i in range(40)]

    # When they are recorded by one writer, or by four writers at once (each batch locking members in order)
    committer = GroupCommit(session_factory(engine), max_batch=32, writers=writers)
    try:
        answers = arriving_together(committer, version_of(engine, api), events)
    finally:
        committer.close()

    # Then every one was processed, in fewer transactions than events, and every member has exactly their points
    assert codes(answers) == [201] * 40
    assert committer.batches < 40
    for index, member in enumerate(members):
        purchases = sum(1 for i in range(40) if i % 12 == index)
        assert api.available(member) == 50 + 50 * purchases
    # ...and each answer carries its own event's effects
    assert all(earned(answer.body) == 50 for answer in answers if isinstance(answer, Outcome))


def test_a_refused_event_gets_its_refusal_and_the_rest_of_its_batch_is_recorded_once(
    api: ApiClient, engine: Engine, committer: GroupCommit
) -> None:
    # Given good purchases mixed with an unknown member, a blocked member and an order id used twice
    good, blocked = api.member(), api.member()
    assert api.patch(f"/api/v1/members/{blocked}", {"status": "blocked"}).status_code == 200
    before = events_recorded(engine, api)
    events = [
        purchase(good),
        purchase("nobody-here"),
        purchase(good, order_id="O-twice"),
        purchase(blocked),
        purchase(good, order_id="O-twice"),
        purchase(good),
    ]

    # When they arrive together
    answers = arriving_together(committer, version_of(engine, api), events)

    # Then each refusal is its own event's, and the three good purchases counted once each
    assert sorted(codes(answers), key=str) == sorted(
        [201, "member_not_found", 201, "member_blocked", "order_already_recorded", 201], key=str
    )
    assert api.available(good) == 50 + 3 * 50
    assert api.available(blocked) == 50
    assert events_recorded(engine, api) == before + 3


def test_the_same_event_twice_in_one_batch_is_processed_once_and_replayed_once(
    api: ApiClient, engine: Engine, committer: GroupCommit
) -> None:
    # Given one purchase sent twice at once (a shop retrying immediately)
    member = api.member()
    body = purchase(member, event_id=f"evt-{uuid.uuid4().hex[:8]}")

    # When both arrive together
    answers = arriving_together(committer, version_of(engine, api), [body, body])

    # Then one recorded it and the other replayed the very same answer; the points came once
    assert sorted(codes(answers)) == [200, 201]
    assert answers[0].body == answers[1].body  # type: ignore[union-attr]
    assert api.available(member) == 100


def test_no_event_is_answered_before_its_transaction_commits(
    api: ApiClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a commit that is held back until we let it go
    member = api.member()
    released, committing = threading.Event(), threading.Event()
    real_commit: Callable[[Session], None] = Session.commit

    def held_commit(session: Session) -> None:
        committing.set()
        assert released.wait(20)
        real_commit(session)

    monkeypatch.setattr(Session, "commit", held_commit)
    committer = GroupCommit(session_factory(engine), max_batch=32)
    version = version_of(engine, api)

    async def scenario() -> list[bool]:
        now = NOW
        calls = [
            asyncio.ensure_future(committer.record(version, body, request_hash(body.model_dump(mode="json")), now))
            for body in (purchase(member), purchase(member))
        ]
        assert await asyncio.to_thread(committing.wait, 20)
        await asyncio.sleep(0.2)
        answered_while_committing = [call.done() for call in calls]
        released.set()
        await asyncio.gather(*calls)
        return answered_while_committing

    # When the writer is inside the commit, nothing has been answered; once it commits, all are
    try:
        assert in_own_loop(scenario) == [False, False]
    finally:
        released.set()
        committer.close()
    assert api.available(member) == 150


def test_a_failed_batch_commit_falls_back_to_one_transaction_per_event_and_counts_each_once(
    api: ApiClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database that fails the first commit (a lost connection, say) and then recovers
    members = [api.member() for _ in range(4)]
    real_commit: Callable[[Session], None] = Session.commit
    failures = [OperationalError("COMMIT", {}, Exception("connection lost"))]

    def flaky_commit(session: Session) -> None:
        if failures:
            raise failures.pop()
        real_commit(session)

    monkeypatch.setattr(Session, "commit", flaky_commit)
    committer = GroupCommit(session_factory(engine), max_batch=32)

    # When eight purchases arrive together
    try:
        answers = arriving_together(committer, version_of(engine, api), [purchase(members[i % 4]) for i in range(8)])
    finally:
        committer.close()

    # Then whichever batch failed was redone event by event: every purchase counts exactly once
    assert codes(answers) == [201] * 8
    assert [api.available(member) for member in members] == [150] * 4


def test_when_every_commit_fails_no_event_is_answered_as_recorded_and_a_retry_records_each_once(
    api: ApiClient, engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a database that fails every commit
    member = api.member()
    events = [purchase(member) for _ in range(5)]
    real_commit: Callable[[Session], None] = Session.commit

    def failing_commit(session: Session) -> None:
        raise OperationalError("COMMIT", {}, Exception("disk full"))

    monkeypatch.setattr(Session, "commit", failing_commit)
    committer = GroupCommit(session_factory(engine), max_batch=32)
    try:
        # When the events arrive, every answer is the failure and nothing was written
        answers = arriving_together(committer, version_of(engine, api), events)
        assert all(isinstance(answer, OperationalError) for answer in answers), answers
        assert api.available(member) == 50

        # And when the database recovers and the shop retries them all, each counts exactly once
        monkeypatch.setattr(Session, "commit", real_commit)
        retried = arriving_together(committer, version_of(engine, api), events)
    finally:
        committer.close()
    assert codes(retried) == [201] * 5
    assert api.available(member) == 50 + 5 * 50
