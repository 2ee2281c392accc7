"""Handing each committed domain event to each consumer that wants it, once per consumer, with retries.

A consumer is anything with a ``name``, a ``wants(type)`` and a ``handle(session, messages, now)``. ``handle`` runs
inside the dispatcher's transaction, in a savepoint. A new event's first attempts happen in the transaction that
claims it and marks it fanned out; only a failed attempt leaves a delivery row, which its retries update. So a consumer
that only writes to the database (the activity log) sees each event exactly once; one that talks to the world (mail,
webhooks) sees it at least once, and deduplicates on ``message.id`` where it matters. A consumer that raises is
tried again later (``outbox.domain.retry_at``) without holding up the others, and given up after ``MAX_ATTEMPTS``.

``drain`` does everything due now (``punchcard jobs run``, tests); ``start`` runs a thread that drains whenever a
commit in this process wrote events (``service.on_commit``) and otherwise every ``every_seconds``, so events written
by other processes or retries that fall due are picked up too (``punchcard serve``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol

from sqlalchemy.orm import Session

from punchcard.kit.clock import Clock
from punchcard.outbox import repository, service
from punchcard.outbox.domain import Message, retry_at

log = logging.getLogger(__name__)

BATCH = 200
"""New events, or retries, per transaction."""
COALESCE_SECONDS = 0.25
"""After a wake-up, how long the dispatcher lets further commits gather before it drains: on a busy server one drain
then carries many events, instead of a few transactions of its own for every request (measured: at 50 ms the
dispatcher cost the earn benchmark about a fifth of its throughput; docs/performance.md)."""


class Consumer(Protocol):
    """Something that reacts to committed domain events."""

    @property
    def name(self) -> str:
        """Stable and unique (at most 64 characters): deliveries are recorded under it."""
        ...

    def wants(self, event_type: str) -> bool: ...

    def handle(self, session: Session, messages: Sequence[Message], now: datetime) -> None:
        """React to these events (oldest first) at ``now``; raise to have them tried again. Must not commit.

        Events come in batches so that a consumer can write set-wise; when a batch fails, the dispatcher hands its
        events over one at a time, so one bad event does not hold up the others.
        """
        ...


class Dispatcher:
    """Delivers the outbox to ``consumers``; several dispatchers (threads, processes) may run at once."""

    def __init__(self, sessions: Callable[[], Session], consumers: Sequence[Consumer], clock: Clock) -> None:
        names = [consumer.name for consumer in consumers]
        if len(set(names)) != len(names):
            raise ValueError(f"consumer names must be unique: {names}")
        self._sessions = sessions
        self._consumers = {consumer.name: consumer for consumer in consumers}
        self._clock = clock
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stop_waking: Callable[[], None] | None = None

    def drain(self, now: datetime | None = None) -> int:
        """Hand every new event to its consumers and make every retry due at ``now`` (default: the clock); returns
        how many deliveries were attempted."""
        attempted = 0
        while True:  # a short batch was the last: no transaction just to find nothing
            batch, attempts = self._first_attempts()
            attempted += attempts
            if batch < BATCH:
                break
        while (batch := self._retry_batch(now or self._clock.now())) > 0:
            attempted += batch
            if batch < BATCH:
                break
        return attempted

    def _first_attempts(self) -> tuple[int, int]:
        """Claim a batch of new events and hand each consumer the ones it wants, in the claim's transaction: a
        consumer's success costs no row, its failure becomes a delivery row to retry. Returns (events, attempts)."""
        with self._sessions() as session:
            messages = repository.claim_new_events(session, BATCH)
            if not messages:
                return 0, 0
            now, attempts = self._clock.now(), 0
            for name, consumer in self._consumers.items():
                items = [repository.Claimed(None, name, m) for m in messages if consumer.wants(m.type)]
                if items:
                    self._deliver(session, consumer, items, now)
                    attempts += len(items)
            repository.fanned_out(session, [message.id for message in messages])
            session.commit()
            return len(messages), attempts

    def _retry_batch(self, now: datetime) -> int:
        with self._sessions() as session:
            claimed = repository.claim_due(session, self._consumers, now, BATCH)
            by_consumer: dict[str, list[repository.Claimed]] = {}
            for item in claimed:
                by_consumer.setdefault(item.consumer, []).append(item)
            for name, items in by_consumer.items():
                self._deliver(session, self._consumers[name], items, now)
            session.commit()
            return len(claimed)

    def _deliver(self, session: Session, consumer: Consumer, items: list[repository.Claimed], now: datetime) -> None:
        """Hand ``items`` to ``consumer`` together; if that fails, one at a time, recording each failure."""
        try:
            with session.begin_nested():
                consumer.handle(session, [item.message for item in items], now)
        except Exception as error:  # a consumer's failure: isolate the event(s) that cause it
            if len(items) == 1:
                self._failed(session, consumer, items[0], error, now)
                return
            for item in items:
                self._deliver(session, consumer, [item], now)
            return
        retried = [item.delivery_id for item in items if item.delivery_id is not None]
        if retried:
            repository.delivered(session, retried, now)

    @staticmethod
    def _failed(
        session: Session, consumer: Consumer, item: repository.Claimed, error: Exception, now: datetime
    ) -> None:
        attempt = item.message.attempt
        log.warning("consumer %s failed on event %d (attempt %d): %s", consumer.name, item.message.id, attempt, error)
        repository.failed(session, item, retry_at(now, attempt), f"{type(error).__name__}: {error}", now)

    def start(self, every_seconds: float) -> None:
        """Drain in a background thread now, after every commit that wrote events, and every ``every_seconds``."""
        if self._thread is not None:
            return
        self._stop_waking = service.on_commit(self._wake.set)
        self._thread = threading.Thread(target=self._loop, args=(every_seconds,), name="punchcard-outbox", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread after its current drain."""
        if self._thread is None:
            return
        if self._stop_waking is not None:
            self._stop_waking()
        self._stop.set()
        self._wake.set()
        self._thread.join()
        self._thread = None

    def _loop(self, every_seconds: float) -> None:
        while not self._stop.is_set():
            self._wake.clear()
            try:
                self.drain()
            except Exception:  # the database went away, say; the next wake-up or poll tries again
                log.exception("dispatching the outbox failed; trying again at the next wake-up")
            if self._wake.wait(every_seconds):
                # Woken by a commit: let the commits that follow it on a busy server join the same drain.
                self._stop.wait(COALESCE_SECONDS)
