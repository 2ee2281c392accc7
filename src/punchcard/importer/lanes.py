"""An import's lanes as processes of their own, on PostgreSQL: members split by a hash of their external id, each lane
a forked process with its own connection that applies its members' orders oldest first, one batch per transaction.

Why processes: applying an order in Python (the rules, the mechanics, the ledger's legs, the outbox's events, the
COPY text) is most of an import's time, and one process runs Python on one core however many threads it has. Lanes
share no member, so they need nothing from each other: each reads the file itself and keeps its own members' orders.

Why fork: a child gets the parent's loaded modules and state as they are (a fresh interpreter would first spend
seconds importing the application); it gives up the parent's database connections at once (``Engine.dispose`` with
``close=False``, as SQLAlchemy prescribes for forked children) and opens its own.

Whatever stops a lane (an error in it, an error in another lane, Ctrl-C, a killed process), its batch in flight is
rolled back by the database with its connection, and every batch any lane committed is whole; the parent raises the
first lane's error after stopping the rest.
"""

from __future__ import annotations

import multiprocessing
import os
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import Any

from sqlalchemy import Engine

Lane = Callable[[int, int, Callable[[Any], None]], None]
"""``lane(number, lanes, report)``: apply lane ``number`` of ``lanes``, calling ``report`` after each commit."""

MAX_LANES = 8


def lane_of(key: str, lanes: int) -> int:
    """The lane a member belongs to: a stable hash of its external id, the same in every process and every run."""
    return zlib.crc32(key.encode()) % lanes


def default_lanes() -> int:
    """One lane per core, at least two (so PostgreSQL works on one lane's batch while Python prepares another's)
    and at most ``MAX_LANES`` (each holds a connection, and the database's own cores are shared)."""
    return max(2, min(os.cpu_count() or 2, MAX_LANES))


@dataclass
class _Failed:
    """What a lane sends instead of a report when it stops on an error."""

    error: BaseException


def run(engine: Engine, lane: Lane, lanes: int, receive: Callable[[Any], None]) -> None:
    """Run ``lanes`` forked processes, each calling ``lane``; ``receive`` gets their reports, in this process, as
    they come. Returns when every lane has finished; raises the first error a lane reports (the others are stopped)."""
    context = multiprocessing.get_context("fork")
    processes: list[multiprocessing.process.BaseProcess] = []
    readers: list[Connection] = []
    try:
        for number in range(lanes):
            reader, writer = context.Pipe(duplex=False)
            started = context.Process(
                target=_child, args=(engine, lane, number, lanes, writer), name=f"import-lane-{number}"
            )
            started.start()
            writer.close()  # the child's end: once the child exits, reading gives EOF
            processes.append(started)
            readers.append(reader)
        _receive(readers, receive)
        for process in processes:
            process.join()
            if process.exitcode != 0:
                raise RuntimeError(f"{process.name} stopped without reporting why (exit code {process.exitcode})")
    finally:
        for process in processes:
            if process.is_alive():
                process.terminate()  # its transaction in flight is rolled back with its connection
        for process in processes:
            process.join()


def _receive(readers: list[Connection], receive: Callable[[Any], None]) -> None:
    """Hand on every lane's reports until every lane has closed its end; raise a lane's error at once."""
    open_ = list(readers)
    while open_:
        for reader in wait(open_):
            assert isinstance(reader, Connection)
            try:
                message = reader.recv()
            except EOFError:
                open_.remove(reader)
                continue
            if isinstance(message, _Failed):
                raise message.error
            receive(message)


def _child(engine: Engine, lane: Lane, number: int, lanes: int, pipe: Connection) -> None:
    """A lane's process: its own connections, its work, and its error sent to the parent rather than printed."""
    engine.dispose(close=False)
    try:
        lane(number, lanes, pipe.send)
    except BaseException as error:  # every way a lane stops is reported, Ctrl-C included
        try:
            pipe.send(_Failed(error))
        except Exception:  # an error that cannot be pickled is reported by its text
            pipe.send(_Failed(RuntimeError(f"{type(error).__name__}: {error}")))
        raise SystemExit(1) from None
    finally:
        pipe.close()
