"""Database plumbing shared by every feature: the declarative base, engines and sessions for SQLite and PostgreSQL.

SQLite is the embedded default, PostgreSQL the production store; the same models and queries run on both. On SQLite
every transaction starts with ``BEGIN IMMEDIATE`` so concurrent writers queue on the database lock instead of failing
half-way with "database is locked" when a reader tries to become a writer; inside one process they queue on a lock of
ours first (``_WriterTurn``).
"""

import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, TypeVar

import psycopg
from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, DisconnectionError, IntegrityError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

T = TypeVar("T")

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamps stored as UTC; SQLite would otherwise hand back naive values."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def normalise_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and use the psycopg 3 driver for them."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_LOCK_WAIT * 1000)}")
        cursor.close()

    writer = _WriterTurn()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        writer.take(connection.connection.dbapi_connection)
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            writer.give_back(connection.connection.dbapi_connection)
            raise

    @event.listens_for(engine, "commit")
    @event.listens_for(engine, "rollback")
    def _on_end(connection: Any) -> None:
        writer.give_back(connection.connection.dbapi_connection)

    @event.listens_for(engine, "checkin")
    @event.listens_for(engine, "invalidate")
    def _on_release(dbapi_connection: Any, *_: Any) -> None:
        writer.give_back(dbapi_connection)


SQLITE_LOCK_WAIT = 30.0
"""Seconds a transaction waits for SQLite's write lock before "database is locked"."""


class _WriterTurn:
    """One transaction at a time per process, queued on a lock in front of SQLite's own.

    SQLite lets one writer in and makes the others poll: its busy handler sleeps between attempts (up to 100 ms), so
    with a few concurrent requests most of the time went to sleeping (docs/performance.md). Waiting on a lock instead
    wakes the next transaction the moment the previous one ends. Other processes still meet at SQLite's lock.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._holder: Any = None

    def take(self, dbapi_connection: Any) -> None:
        # Bounded, like SQLite's own wait: should a thread ever open a second transaction while holding its first,
        # it meets SQLite's "database is locked" after the same wait instead of waiting forever.
        if self._lock.acquire(timeout=SQLITE_LOCK_WAIT):
            self._holder = dbapi_connection

    def give_back(self, dbapi_connection: Any) -> None:
        if self._holder is not None and self._holder is dbapi_connection:
            self._holder = None
            self._lock.release()


@lru_cache(maxsize=8)
def get_engine(url: str, pool_size: int = 10) -> Engine:
    """One engine per URL per process."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_LOCK_WAIT})
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_reset_on_return=None)
    _ping_when_idle(engine)
    _reset_when_open(engine)
    return engine


PING_AFTER_IDLE_SECONDS = 1.0
"""A pooled connection idle longer than this is pinged before use; one used more recently is trusted. Under load a
connection goes back to work within milliseconds and is never pinged; at a request a second the ping costs nothing
that matters, and a database restart (seconds) leaves every pooled connection idle long enough to be pinged."""


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection only when it sat idle for ``PING_AFTER_IDLE_SECONDS``, instead of before every
    transaction (``pool_pre_ping``, a round trip each: one of a read's six). A connection that fails its ping is
    replaced before use (``DisconnectionError`` makes the pool connect anew), so the first request after a quiet
    night or a database restart does not fail. One in use when the database went away fails its statement; SQLAlchemy
    then drops it and every older connection of the pool, and the request boundaries run the unit of work once more
    on a fresh one (``retry_on_conflict``, group commit's one-by-one fallback)."""

    @event.listens_for(engine, "checkin")
    def _checked_in(dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        since = record.info.get("checked_in_at")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return  # new, or used moments ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:  # gone: the pool connects anew
            raise DisconnectionError("an idle pooled connection failed its ping") from error


def _reset_when_open(engine: Engine) -> None:
    """Roll back a connection given back to the pool only if a transaction is still open on it (SQLAlchemy's
    documented custom reset: ``pool_reset_on_return=None`` and a ``reset`` hook). The default reset calls
    ``rollback()`` every time; psycopg returns from it at once on an idle connection, except inside a pipeline, where
    it first syncs the pipeline: a round trip for nothing when ``commit_together`` commits there."""

    @event.listens_for(engine, "reset")
    def _reset(dbapi_connection: Any, record: Any, reset_state: Any) -> None:
        if reset_state.terminate_only:
            return  # the connection is being closed: the server ends what was open
        if dbapi_connection.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            dbapi_connection.rollback()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def unit_of_work(engine: Engine) -> Iterator[Session]:
    """A session for a CLI command or job: commits on success, rolls back on any error."""
    with session_factory(engine)() as session:
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise


def reading(session: Session) -> None:
    """Run the session's statements without a transaction on PostgreSQL (each is its own, as autocommit): for a unit
    of work that only reads. Under READ COMMITTED every statement sees its own snapshot inside a transaction too, so
    nothing changes but the ``BEGIN`` and ``ROLLBACK`` around them, two of a member read's round trips. Call it before
    the first statement. SQLite keeps its transaction (there a read takes the writers' turn, ``_WriterTurn``)."""
    if is_postgres(session):
        session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


@contextmanager
def together(session: Session) -> Iterator[None]:
    """Send the statements run in the block together: on PostgreSQL in psycopg's pipeline mode, so the writes of a
    unit of work that wait for no answer cost one round trip between them; on SQLite one by one, as always.

    Only Core statements that return nothing may run inside (no ``RETURNING``, no reads, no ORM flush: it checks row
    counts): flush first. An error of any of them is raised when the block ends, as SQLAlchemy raises it
    (``IntegrityError``, a lost connection with ``connection_invalidated``), and the statements after it did not run.
    """
    if not is_postgres(session):
        yield
        return
    connection = session.connection()
    raw = connection.connection.driver_connection
    assert isinstance(raw, psycopg.Connection)
    try:
        with raw.pipeline():
            yield
    except psycopg.Error as error:  # raised by the pipeline's sync, past SQLAlchemy
        if raw.broken:
            connection.invalidate(error)
        raise DBAPIError.instance(None, None, error, psycopg.Error, connection_invalidated=raw.broken) from error


def commit_together(session: Session, last_writes: Callable[[], None] | None = None) -> None:
    """Commit, sending ``last_writes`` (statements that return nothing) and the writes the commit's own hooks make
    (the outbox's rows) with the ``COMMIT``: one round trip on PostgreSQL (``together``). What went through the ORM is
    flushed first, on its own."""
    session.flush()
    with together(session):
        if last_writes is not None:
            last_writes()
        session.commit()


def is_unique_violation(error: DBAPIError, table: str) -> bool:
    """Whether ``error`` is an insert into ``table`` refused by one of its unique constraints (PostgreSQL's
    ``unique_violation`` on that table; SQLite's ``UNIQUE constraint failed: table.column``)."""
    original = error.orig
    if isinstance(original, psycopg.Error):
        return original.sqlstate == "23505" and original.diag.table_name == table
    return f"UNIQUE constraint failed: {table}." in str(original)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


CONFLICTS = frozenset({"40P01", "40001"})
"""SQLSTATEs of a transaction the database gave up to let others go on: ``deadlock_detected`` and
``serialization_failure``. Running the whole transaction again is the documented cure for both."""

CONFLICT_BACKOFF = 0.05
"""Seconds: the longest pause before the second attempt; it doubles for each further one."""


def is_disconnect(error: BaseException) -> bool:
    """Whether ``error`` is the connection being lost (a database restart, a killed backend). SQLAlchemy has then
    dropped it and every older connection of the pool, so the same work can run again at once on a fresh one."""
    return isinstance(error, DBAPIError) and error.connection_invalidated


def is_conflict(error: BaseException) -> bool:
    """Whether ``error`` is the database reporting a deadlock or a serialization failure (as psycopg raises them,
    wrapped by SQLAlchemy). SQLite has neither: its writers queue (``BEGIN IMMEDIATE``)."""
    return isinstance(error, DBAPIError) and getattr(error.orig, "sqlstate", None) in CONFLICTS


def retry_on_conflict(
    work: Callable[[], T],
    *,
    attempts: int = 3,
    before_retry: Callable[[], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Run ``work``, a whole unit of work in a transaction of its own, again from the start when the database gives
    its transaction up for a deadlock or a serialization failure, or its connection was lost (``is_disconnect``): at
    most ``attempts`` runs in all, after which that failure is raised. Any other error is raised at once, never
    retried.

    ``work`` must leave nothing behind when it fails: open its own transaction (``unit_of_work``), or pass
    ``before_retry`` to roll back the session it uses (a request's). Between runs it pauses a random moment, up to
    ``CONFLICT_BACKOFF`` doubled per run already failed, so the transactions that met do not meet again in step.

    A last resort: lock order and lock modes are what keep transactions apart (docs/decisions.md, Performance 18).
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    attempt = 1
    while True:
        try:
            return work()
        except DBAPIError as error:
            if attempt >= attempts or not (is_conflict(error) or is_disconnect(error)):
                raise
            log.warning(
                "attempt %d of %d given up by the database, running it again: %s", attempt, attempts, error.orig
            )
        if before_retry is not None:
            before_retry()
        sleep(random.uniform(0, CONFLICT_BACKOFF * 2 ** (attempt - 1)))
        attempt += 1


def committed_once(session: Session, work: Callable[[], T]) -> T:
    """``work()``, committed. When the commit meets a unique key another request committed meanwhile without
    waiting on the same lock (the same ``Idempotency-Key`` used on another card, another member), roll back and run
    ``work`` once more: it then finds what the other committed, and answers as it did (or refuses the reuse)."""
    try:
        outcome = work()
        session.commit()
    except IntegrityError:
        session.rollback()
        outcome = work()
        session.commit()
    return outcome


class InsertUnlessTaken:
    """``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id``, built once for each database: the row's id, or
    ``None`` when a row with the same key exists (on PostgreSQL the insert first waits for a concurrent one with that
    key to commit or roll back). Hot paths keep it at module level, since building a statement costs more than
    running it (docs/performance.md)."""

    def __init__(self, model: Any, *key: Any) -> None:
        self._statements = {
            "postgresql": postgresql.insert(model).on_conflict_do_nothing(index_elements=key).returning(model.id),
            "sqlite": sqlite.insert(model).on_conflict_do_nothing(index_elements=key).returning(model.id),
        }

    def __call__(self, session: Session, values: dict[str, Any]) -> int | None:
        statement = self._statements[session.get_bind().dialect.name]
        found = session.connection().execute(statement, values).scalar_one_or_none()
        return None if found is None else int(found)
