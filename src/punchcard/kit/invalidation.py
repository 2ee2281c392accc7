"""Telling every process that what it cached from the database may be stale.

Caches of rows that change rarely and are read on every request (API keys, the program version in force) remember
the *generation* current when they read, and trust an entry only while the generation is unchanged (and, as a
backstop, for a short time). A transaction that changes such rows calls ``announce(session)``. When it commits:

- this process's generation moves on at once (an ``after_commit`` hook), so the change is seen by the next request;
- on PostgreSQL, ``NOTIFY punchcard_invalidate`` was sent in the transaction, which PostgreSQL delivers only if it
  commits: every process running a ``Listener`` moves its generation on when it hears it (milliseconds later).

SQLite has no notifications: a change made by another process (the CLI beside a running demo) is seen when the
cache's backstop runs out. A rolled-back transaction announces nothing.
"""

from __future__ import annotations

import logging
import threading

import psycopg
from sqlalchemy import URL, text
from sqlalchemy import event as sqlalchemy_event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

CHANNEL = "punchcard_invalidate"
_ANNOUNCED = "punchcard.invalidation.announced"
_NOTIFY = text(f"NOTIFY {CHANNEL}")

_generation = 0
_lock = threading.Lock()


def generation() -> int:
    """The current generation: an entry cached under an older one may be stale."""
    return _generation


def bump() -> None:
    """Make everything cached so far stale."""
    global _generation
    with _lock:
        _generation += 1


def announce(session: Session) -> None:
    """Have caches forget what they read once this session's transaction commits, in this and every other process."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_NOTIFY)  # delivered at commit, dropped with a rollback; repeats in one transaction fold
    session.info[_ANNOUNCED] = True


@sqlalchemy_event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_ANNOUNCED, False):
        bump()


@sqlalchemy_event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_ANNOUNCED, None)


class Listener:
    """Hears other processes' announcements on PostgreSQL, on a connection of its own, in a daemon thread.

    While it is not connected (database restarting), it cannot know what it missed, so on every (re)connection it
    moves the generation on: a cache may read again once too often, never trust a stale entry."""

    RECONNECT_SECONDS = 1.0

    def __init__(self, url: URL) -> None:
        self._conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="punchcard-invalidation", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except psycopg.Error as error:
                log.warning("cache invalidation listener lost its connection: %s", error)
            self._stopping.wait(self.RECONNECT_SECONDS)

    def _listen(self) -> None:
        with psycopg.connect(self._conninfo, autocommit=True) as connection:
            connection.execute(f"LISTEN {CHANNEL}")
            bump()
            while not self._stopping.is_set():
                for _ in connection.notifies(timeout=0.5):
                    bump()
