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

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.event import metrics as event_metrics
from punchcard.event import service
from punchcard.event.schemas import EventIn
from punchcard.kit.batching import Batcher
from punchcard.kit.db import commit_together
from punchcard.kit.errors import PunchcardError
from punchcard.program.domain import ProgramVersion

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Event:
    """One request's event."""

    version: ProgramVersion
    body: EventIn
    digest: str
    now: datetime

    def record(self, session: Session) -> service.Outcome:
        return service.record(session, self.version, self.body, self.digest, self.now)


Result = service.Outcome | BaseException


def _count(event: _Event, result: Result) -> None:
    """Count the event's outcome in the metrics, once, now that its transaction is over."""
    if isinstance(result, BaseException):
        event_metrics.count(event.body.type, event_metrics.outcome(None, result), "request")
    else:
        event_metrics.count(event.body.type, event_metrics.outcome(result.status), "request")


class GroupCommit:
    """Records events in shared transactions on ``writers`` threads (``kit.batching``); see the module docstring."""

    def __init__(self, sessions: Callable[[], Session], max_batch: int, writers: int = 1) -> None:
        self._sessions = sessions
        self._batcher: Batcher[_Event, service.Outcome] = Batcher(
            self._handle, max_batch, writers, "punchcard-group-commit"
        )
        self._counting = threading.Lock()
        self.batches = 0
        """Transactions committed so far (for tests and curiosity)."""

    async def record(self, version: ProgramVersion, body: EventIn, digest: str, now: datetime) -> service.Outcome:
        """Record the event exactly once and return its outcome once it is committed; refusals are raised."""
        return await self._batcher.submit(_Event(version, body, digest, now))

    def close(self) -> None:
        """Let the writers finish what is queued, then stop them."""
        self._batcher.close()

    def _handle(self, events: list[_Event]) -> list[Result]:
        """The batch in member order (a stable sort: one member's events keep their order), recorded together or,
        on any failure, each in a transaction of its own; the results in the order the events came."""
        order = sorted(range(len(events)), key=lambda index: events[index].body.member_external_id)
        ordered = [events[index] for index in order]
        try:
            outcomes = self._commit_together(ordered)
        except Exception:  # any failure: each event gets its own transaction instead
            log.info("a batch of %d events failed; recording them one by one", len(events), exc_info=True)
            outcomes = [self._commit_alone(event) for event in ordered]
        results: list[Result] = list(outcomes)
        for position, index in enumerate(order):
            results[index] = outcomes[position]
            _count(events[index], outcomes[position])
        return results

    def _commit_together(self, events: list[_Event]) -> list[Result]:
        """Record ``events`` in one transaction. A refused event is set aside with its refusal and the others run
        again without it; every answer, refusals included, is given only after the commit."""
        refused: dict[int, PunchcardError] = {}
        while True:
            outcomes: dict[int, service.Outcome] = {}
            with self._sessions() as session:
                for index, event in enumerate(events):
                    if index in refused:
                        continue
                    try:
                        outcomes[index] = event.record(session)
                    except PunchcardError as refusal:
                        refused[index] = refusal
                        break
                else:
                    commit_together(session)
                    break
            # The session closed uncommitted: what ran with the refused event rolled back with it.
        self._count_batch()
        return [outcomes[index] if index in outcomes else refused[index] for index in range(len(events))]

    def _commit_alone(self, event: _Event) -> Result:
        try:
            with self._sessions() as session:
                outcome = event.record(session)
                commit_together(session)
        except Exception as failure:  # a refusal, a database failure or a bug: the request's error handlers answer it
            return failure
        self._count_batch()
        return outcome

    def _count_batch(self) -> None:
        with self._counting:
            self.batches += 1
