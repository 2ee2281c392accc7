"""Waiting, in a test, until another connection waits: the one way to know that a concurrent operation is queued behind
a lock the test holds, without guessing a duration."""

from __future__ import annotations

import time
from concurrent.futures import Future
from typing import Any

from sqlalchemy import Engine, text

_WAITING_FOR_A_LOCK = text(
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
)


def waits_for_a_lock(engine: Engine, running: Future[Any]) -> None:
    """Return once a connection to the test database waits for a row lock (PostgreSQL), or ``running`` ended without
    ever waiting.

    Each look is a transaction of its own: PostgreSQL keeps what ``pg_stat_activity`` showed for the rest of a
    transaction, so polling in one would never see a wait that began after the first look, and would poll for ever.
    """
    while not running.done() and not _someone_waits(engine):
        time.sleep(0.01)


def _someone_waits(engine: Engine) -> bool:
    with engine.connect() as connection:
        return bool(connection.execute(_WAITING_FOR_A_LOCK).scalar_one())
