"""SQLite transactions in one process take turns on a lock of ours before SQLite's own (``kit.db._WriterTurn``): a
waiting transaction starts the moment the previous one ends, however that one ended."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from punchcard.kit.db import get_engine


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = get_engine.__wrapped__(f"sqlite:///{tmp_path / 'turns.db'}")  # a fresh engine, not the cached one
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, value INTEGER NOT NULL)"))
        connection.execute(text("INSERT INTO counter VALUES (1, 0)"))
    yield engine
    engine.dispose()


def starts_within(engine: Engine, seconds: float) -> bool:
    """Whether a transaction on another thread gets its turn (and commits) within ``seconds``."""
    done = threading.Event()

    def write() -> None:
        with Session(engine) as session:
            session.execute(text("UPDATE counter SET value = value + 1"))
            session.commit()
        done.set()

    threading.Thread(target=write, daemon=True).start()
    return done.wait(seconds)


def test_a_transaction_that_fails_gives_the_turn_back(engine: Engine) -> None:
    # Given a transaction that breaks a constraint and is rolled back
    with Session(engine) as session:
        with pytest.raises(IntegrityError):
            session.execute(text("INSERT INTO counter VALUES (1, 0)"))
        session.rollback()

    # Then the next one starts at once
    assert starts_within(engine, 2)


def test_a_session_closed_without_commit_gives_the_turn_back(engine: Engine) -> None:
    # Given a session that wrote and was closed without committing (a request that raised)
    session = Session(engine)
    session.execute(text("UPDATE counter SET value = 100"))
    session.close()

    # Then the next transaction starts at once, and the abandoned write is gone
    assert starts_within(engine, 2)
    with engine.connect() as connection:
        assert connection.execute(text("SELECT value FROM counter")).scalar_one() == 1


def test_a_waiting_transaction_starts_when_the_holder_commits_not_before(engine: Engine) -> None:
    # Given a transaction holding the turn
    holder = Session(engine)
    holder.execute(text("UPDATE counter SET value = 10"))

    # Then another cannot start while it is open, and starts as soon as it commits
    assert not starts_within(engine, 0.3)
    started = time.monotonic()
    holder.commit()
    holder.close()
    deadline = time.monotonic() + 2
    with engine.connect() as connection:
        while connection.execute(text("SELECT value FROM counter")).scalar_one() != 11:
            assert time.monotonic() < deadline, "the waiting transaction did not run after the commit"
            connection.rollback()
            time.sleep(0.01)
    assert time.monotonic() - started < 2


def test_other_processes_still_meet_at_sqlites_own_lock(engine: Engine, tmp_path: Path) -> None:
    # Given a second engine on the same file (as another process would have): it has its own turn lock
    other = create_engine(f"sqlite:///{tmp_path / 'turns.db'}", connect_args={"timeout": 0.2})
    with Session(engine) as session:
        session.execute(text("UPDATE counter SET value = 5"))
        # Then its writer waits at SQLite's lock, and gives up with "database is locked" rather than writing
        with other.connect() as connection, pytest.raises(Exception, match="locked"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        session.commit()
    other.dispose()
