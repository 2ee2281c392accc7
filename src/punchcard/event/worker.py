"""Workers: accepted events (``event.accepted``) recorded through the event path, in order per member.

A worker takes a few partitions of the intake for one transaction (``intake.service.claim``: PostgreSQL advisory
locks, so no other worker processes those partitions meanwhile), records their oldest accepted events with
``service.record``, exactly as a synchronous request would, and writes each outcome to the intake in the same
transaction: an event is processed exactly once, and a crash at any moment rolls back both its effects and its
outcome, so the next worker processes it again. Members belong to one partition, so a member's events are processed
one after another in the order they were accepted; different partitions go to different workers (threads in each
``punchcard serve`` process, ``punchcard worker`` processes, on any machine using the same PostgreSQL). SQLite has
one writer at a time: there every partition is the worker's while its transaction lasts.

A refusal (unknown or blocked member, an order recorded twice, ...) becomes the event's outcome, ``rejected``, with
the error a synchronous request would have got; its writes are undone (the batch runs again with a savepoint per
event). Any other failure (a deadlock, a lost connection, a bug) rolls the batch back; its events are then processed
one at a time, and an event that keeps failing is rejected after ``intake.domain.MAX_ATTEMPTS`` so that its
partition moves on.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from punchcard.event import metrics as event_metrics
from punchcard.event import service
from punchcard.event.schemas import EventIn
from punchcard.intake import service as intake
from punchcard.intake.domain import Status
from punchcard.intake.service import Finished, Waiting
from punchcard.kit.clock import Clock
from punchcard.kit.db import commit_together
from punchcard.kit.errors import PunchcardError
from punchcard.program import service as programs

log = logging.getLogger(__name__)

BATCH = 100
"""Events one transaction processes: one commit for many events, short enough to hold its partitions briefly."""

PARTITIONS_PER_BATCH = 8
"""Partitions one transaction takes: accepted events spread over all 64, and a batch of one partition's few would
make a transaction per handful of events; eight leave the other partitions to other workers."""

Sessions = Callable[[], Session]


def drain(sessions: Sessions, clock: Clock) -> int:
    """Process accepted events until none is left (or none can be processed now); returns how many."""
    total = 0
    while done := process_waiting(sessions, clock):
        total += done
    return total


def process_waiting(sessions: Sessions, clock: Clock) -> int:
    """One round: a batch from every group of ``PARTITIONS_PER_BATCH`` partitions with accepted events, the
    partitions shuffled so that workers spread out (each takes only those no other worker holds); returns how many
    events were processed or rejected."""
    with sessions() as session:
        partitions = intake.waiting_partitions(session)
    random.shuffle(partitions)
    groups = [
        partitions[start : start + PARTITIONS_PER_BATCH] for start in range(0, len(partitions), PARTITIONS_PER_BATCH)
    ]
    return sum(_partitions(sessions, clock, group, BATCH) for group in groups)


def _partitions(sessions: Sessions, clock: Clock, partitions: list[int], limit: int) -> int:
    try:
        return _batch(sessions, clock, partitions, limit)
    except Exception as failure:  # not a refusal: the batch rolled back; find the event that fails
        if limit > 1:
            log.warning("a batch of partitions %s failed; processing one event at a time", partitions, exc_info=True)
            done = 0
            for _ in range(limit):
                step = _partitions(sessions, clock, partitions, 1)
                if not step:
                    break
                done += step
            return done
        return _count_failure(sessions, clock, partitions, failure)


def _batch(sessions: Sessions, clock: Clock, partitions: list[int], limit: int) -> int:
    """Process up to ``limit`` of the partitions' accepted events in one transaction; 0 when other workers have the
    partitions or nothing is waiting.

    The first run records the events one after another with nothing in between. A refusal may have written before
    it was refused, so then the transaction is rolled back and the batch runs again with each event in a savepoint of
    its own (two more statements per event, paid only by a batch that holds a refusal)."""
    for careful in (False, True):
        with sessions() as session:
            waiting = intake.claim(session, partitions, limit)
            if not waiting:
                return 0
            now = clock.now()
            # In member order (stable: one member's events keep the order they were accepted in), as group commit
            # locks members, so that concurrent batches lock members in the same order and cannot deadlock.
            ordered = sorted(waiting, key=lambda item: item.member_external_id)
            try:
                finished = [_process(session, item, now, careful=careful) for item in ordered]
            except PunchcardError:
                continue  # the session closes uncommitted: nothing of this run stays
            commit_together(session, partial(intake.finish, session, finished, now))
        for item, done in zip(ordered, finished, strict=True):
            refused = done.status == Status.REJECTED
            result = event_metrics.REFUSED if refused else event_metrics.outcome(done.http_status)
            event_metrics.count(str(item.body.get("type", "")), result, "worker")
        return len(finished)
    raise RuntimeError(f"partitions {partitions}: a refusal escaped its savepoint")


def _process(session: Session, item: Waiting, now: datetime, *, careful: bool) -> Finished:
    """Record one event under the program version it was accepted with. ``careful``: in a savepoint, so that a
    refusal undoes only its own writes and becomes the event's outcome; otherwise a refusal is raised."""
    version = programs.at_version(session, item.program_id, item.program_version)
    body = EventIn.model_validate(item.body)
    if not careful:
        outcome = service.record(session, version, body, item.request_hash, now)
        return Finished(item.row_id, Status.PROCESSED, outcome.status, outcome.body)
    try:
        with session.begin_nested():
            outcome = service.record(session, version, body, item.request_hash, now)
    except PunchcardError as refusal:
        return Finished(item.row_id, Status.REJECTED, refusal.status, refusal.envelope())
    return Finished(item.row_id, Status.PROCESSED, outcome.status, outcome.body)


def _count_failure(sessions: Sessions, clock: Clock, partitions: list[int], failure: Exception) -> int:
    """The partitions' oldest event failed alone: count it (rejecting it after the last attempt); 1 if rejected."""
    log.error("processing an event of partitions %s failed", partitions, exc_info=failure)
    with sessions() as session:
        waiting = intake.claim(session, partitions, 1)
        if not waiting:
            return 0
        rejected = intake.failed(session, waiting[0], f"{type(failure).__name__}: {failure}", clock.now())
        session.commit()
    if rejected:
        event_metrics.count(str(waiting[0].body.get("type", "")), event_metrics.FAILED, "worker")
    return 1 if rejected else 0


class Worker:
    """Processes accepted events on a thread of its own until stopped: at once when this process accepted one
    (``wake``), and every ``poll_seconds`` for those other processes accepted."""

    def __init__(self, sessions: Sessions, clock: Clock, poll_seconds: float) -> None:
        self._sessions, self._clock, self._poll = sessions, clock, poll_seconds
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="punchcard-intake-worker", daemon=True)
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self) -> None:
        """Finish the batch in hand and stop (what is left waits, durably, for the next worker)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                done = process_waiting(self._sessions, self._clock)
            except Exception:  # the database is away, say: try again at the next poll
                log.exception("the intake worker's round failed")
                done = 0
            if not done:
                self._wake.wait(self._poll)
