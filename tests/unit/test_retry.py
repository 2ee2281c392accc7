"""``kit.db.retry_on_conflict``: a unit of work the database gives up for a deadlock (40P01) or a serialization failure
(40001) runs again, a bounded number of times; nothing else is ever retried."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

import psycopg
import pytest
from psycopg import errors as pg
from sqlalchemy.exc import IntegrityError, OperationalError

from punchcard.kit.db import CONFLICT_BACKOFF, is_conflict, retry_on_conflict
from punchcard.kit.errors import PunchcardError


def deadlock() -> OperationalError:
    return OperationalError("UPDATE lots SET remaining = 0", {}, pg.DeadlockDetected("deadlock detected"))


def serialization_failure() -> OperationalError:
    return OperationalError("UPDATE lots SET remaining = 0", {}, pg.SerializationFailure("could not serialize"))


class Work:
    """A unit of work that fails with the given errors, one per run, then answers ``"done"``."""

    def __init__(self, *failures: BaseException) -> None:
        self.failures = list(failures)
        self.runs = 0

    def __call__(self) -> str:
        self.runs += 1
        if self.failures:
            raise self.failures.pop(0)
        return "done"


class Pauses:
    def __init__(self) -> None:
        self.seconds: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.seconds.append(seconds)


@pytest.mark.parametrize("failure", [deadlock, serialization_failure], ids=["40P01", "40001"])
def test_a_deadlock_or_serialization_failure_runs_the_work_again_after_a_short_random_pause(
    failure: Callable[[], OperationalError],
) -> None:
    work, pauses, rollbacks = Work(failure(), failure()), Pauses(), []

    assert retry_on_conflict(work, sleep=pauses, before_retry=lambda: rollbacks.append(1)) == "done"

    assert work.runs == 3
    assert len(rollbacks) == 2  # before each new run, never after the last
    assert len(pauses.seconds) == 2
    assert 0 <= pauses.seconds[0] <= CONFLICT_BACKOFF
    assert 0 <= pauses.seconds[1] <= 2 * CONFLICT_BACKOFF


def test_the_work_runs_at_most_attempts_times_then_the_last_failure_is_raised() -> None:
    last = deadlock()
    work, pauses = Work(deadlock(), serialization_failure(), last, deadlock()), Pauses()

    with pytest.raises(OperationalError) as raised:
        retry_on_conflict(work, sleep=pauses)

    assert raised.value is last
    assert work.runs == 3
    assert len(pauses.seconds) == 2


def test_attempts_bounds_the_runs() -> None:
    work = Work(*(deadlock() for _ in range(10)))

    with pytest.raises(OperationalError):
        retry_on_conflict(work, attempts=5, sleep=Pauses())
    assert work.runs == 5

    once = Work(deadlock())
    with pytest.raises(OperationalError):
        retry_on_conflict(once, attempts=1, sleep=Pauses())
    assert once.runs == 1

    with pytest.raises(ValueError, match="at least 1"):
        retry_on_conflict(Work(), attempts=0)


@pytest.mark.parametrize(
    "failure",
    [
        IntegrityError("INSERT INTO events", {}, pg.UniqueViolation("duplicate key")),
        OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed the connection unexpectedly")),
        OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")),
        PunchcardError("a refused request"),
        ValueError("a bug"),
    ],
    ids=["unique-violation", "connection-lost", "sqlite-locked", "business-error", "bug"],
)
def test_any_other_error_is_raised_at_once_without_running_the_work_again(failure: Exception) -> None:
    work, pauses, rollbacks = Work(failure), Pauses(), []

    with pytest.raises(type(failure)) as raised:
        retry_on_conflict(work, sleep=pauses, before_retry=lambda: rollbacks.append(1))

    assert raised.value is failure
    assert (work.runs, pauses.seconds, rollbacks) == (1, [], [])


def test_is_conflict_reads_the_sqlstate_of_the_drivers_error() -> None:
    assert is_conflict(deadlock())
    assert is_conflict(serialization_failure())
    assert not is_conflict(pg.DeadlockDetected("not wrapped by SQLAlchemy"))
    assert not is_conflict(IntegrityError("INSERT", {}, pg.UniqueViolation("duplicate key")))
    assert not is_conflict(OperationalError("BEGIN IMMEDIATE", {}, sqlite3.OperationalError("database is locked")))
