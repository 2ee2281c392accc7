"""Group commit: the events that arrive together are recorded in one transaction, and each is answered only after
that transaction committed.

Per event, the transaction around it (a pooled connection and its ping, the session, the commit and its WAL flush)
is a large part of the CPU of recording it (docs/performance.md, finding 18). Each of a few writer threads per
process takes every event waiting when it is free, at most ``max_batch``, and runs ``service.record`` for each in
arrival order inside one transaction: exactly what a serial run would do, with one commit. Nothing waits for a batch
to fill, so a lone event is recorded at once.

Guarantees, unchanged from one transaction per event:

- **Answered after the commit.** A response (201, or a 200 replay of an event earlier in the same batch) is released
  only once the batch committed. A crash before that loses the batch's work and none of its answers; the shop's retry
  records the events then, once, as event ids are unique.
- **A refusal stays with its event.** A refused event (member blocked, order already recorded, ...) may have written
  before it was refused, so the batch is rolled back and run again without it; the refusal is its answer, given, like
  every answer, after the others committed. A database failure (a deadlock, a lost connection, a failed commit) sends
  every event of the batch back to a transaction of its own, as if there were no batching.
- **Lock order.** A batch handles its events in member order (a stable sort: one member's events keep their order), so
  concurrent batches (other writers, other processes) lock members in the same order and cannot deadlock each other.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.event import service
from punchcard.event.schemas import EventIn
from punchcard.kit.errors import PunchcardError
from punchcard.program.domain import ProgramVersion

log = logging.getLogger(__name__)


@dataclass
class _Waiting:
    """One event and the request waiting for its answer."""

    version: ProgramVersion
    body: EventIn
    digest: str
    now: datetime
    loop: asyncio.AbstractEventLoop
    answer: asyncio.Future[service.Outcome]

    def record(self, session: Session) -> service.Outcome:
        return service.record(session, self.version, self.body, self.digest, self.now)

    def settle(self, outcome: service.Outcome | BaseException) -> None:
        self.loop.call_soon_threadsafe(_settle, self.answer, outcome)


def _settle(answer: asyncio.Future[service.Outcome], outcome: service.Outcome | BaseException) -> None:
    if answer.done():  # the client went away (cancelled); the event is recorded (or not) all the same
        return
    if isinstance(outcome, BaseException):
        answer.set_exception(outcome)
    else:
        answer.set_result(outcome)


class GroupCommit:
    """Records events in shared transactions on ``writers`` threads (started on first use); see the module docstring."""

    def __init__(self, sessions: Callable[[], Session], max_batch: int, writers: int = 1) -> None:
        self._sessions = sessions
        self._max_batch = max(1, max_batch)
        self._writer_count = max(1, writers)
        self._queue: queue.SimpleQueue[_Waiting | None] = queue.SimpleQueue()
        self._start = threading.Lock()
        self._writers: list[threading.Thread] = []
        self.batches = 0
        """Transactions committed so far (for tests and curiosity)."""

    async def record(self, version: ProgramVersion, body: EventIn, digest: str, now: datetime) -> service.Outcome:
        """Record the event exactly once and return its outcome once it is committed; refusals are raised."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(version, body, digest, now, loop, loop.create_future())
        self._ensure_writers()
        self._queue.put(waiting)
        return await waiting.answer

    def close(self) -> None:
        """Let the writers finish what is queued, then stop them."""
        with self._start:
            writers, self._writers = self._writers, []
        for _ in writers:
            self._queue.put(None)
        for writer in writers:
            writer.join()

    def _ensure_writers(self) -> None:
        if not self._writers:
            with self._start:
                if not self._writers:
                    self._writers = [
                        threading.Thread(target=self._write, name=f"punchcard-group-commit-{n}", daemon=True)
                        for n in range(self._writer_count)
                    ]
                    for writer in self._writers:
                        writer.start()

    def _write(self) -> None:
        while True:
            batch = self._next_batch()
            if not batch:
                return
            try:
                self._commit_together(batch)
            except Exception:  # any failure: each event gets its own transaction instead
                log.info("a batch of %d events failed; recording them one by one", len(batch), exc_info=True)
                for waiting in batch:
                    self._commit_alone(waiting)
            except BaseException:  # the process is going down: nothing of this batch committed, say so and stop
                for waiting in batch:
                    waiting.settle(RuntimeError("the server stopped before the event was committed"))
                raise

    def _next_batch(self) -> list[_Waiting]:
        """The next event and every one waiting behind it, up to ``max_batch``, in member order; empty to stop."""
        first = self._queue.get()
        if first is None:
            return []
        batch = [first]
        while len(batch) < self._max_batch:
            try:
                following = self._queue.get_nowait()
            except queue.Empty:
                break
            if following is None:
                self._queue.put(None)  # stop after this batch
                break
            batch.append(following)
        return sorted(batch, key=lambda waiting: waiting.body.member_external_id)

    def _commit_together(self, batch: list[_Waiting]) -> None:
        """Record the batch in one transaction. A refused event is set aside with its refusal and the others run
        again without it; every answer, refusals included, is given only after the commit."""
        refused: list[tuple[_Waiting, PunchcardError]] = []
        remaining = batch
        while True:
            outcomes: list[service.Outcome] = []
            with self._sessions() as session:
                for waiting in remaining:
                    try:
                        outcomes.append(waiting.record(session))
                    except PunchcardError as refusal:
                        refused.append((waiting, refusal))
                        break
                else:
                    session.commit()
                    break
            # The session closed uncommitted: what ran with the refused event rolled back with it.
            remaining = [waiting for waiting in remaining if waiting is not refused[-1][0]]
        self._count_batch()
        for waiting, outcome in zip(remaining, outcomes, strict=True):
            waiting.settle(outcome)
        for waiting, error in refused:
            waiting.settle(error)

    def _commit_alone(self, waiting: _Waiting) -> None:
        try:
            with self._sessions() as session:
                outcome = waiting.record(session)
                session.commit()
        except Exception as failure:  # a refusal, a database failure or a bug: the request's error handlers answer it
            waiting.settle(failure)
        else:
            self._count_batch()
            waiting.settle(outcome)

    def _count_batch(self) -> None:
        with self._start:
            self.batches += 1
