"""``/healthz`` (the process is up) and ``/readyz`` (it can reach its database), for load balancers, Docker and
orchestrators; neither needs a key.

Two checks, because they answer different questions: a failing liveness check gets the process restarted, which
does not help when the database is away (every restarted process would fail the same way), while a failing readiness
check only takes the process out of rotation until the database answers again. So ``/healthz`` touches nothing,
and ``/readyz`` asks the database one cheap question on a connection of the app's own pool, within
``READY_WITHIN_SECONDS`` (a database that does not answer at all must not hold the probe for the TCP timeout).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import anyio
from anyio import to_thread
from fastapi import APIRouter, Request
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from punchcard.kit.errors import PunchcardError

log = logging.getLogger(__name__)

READY_WITHIN_SECONDS = 5.0
"""How long ``/readyz`` waits for the database's answer before it answers 503."""

router = APIRouter(tags=["health"])


class DatabaseUnavailable(PunchcardError):
    code = "database_unavailable"
    status = 503


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up and answering: ``{"status": "ok"}``. Nothing else is checked (not the database)."""
    return {"status": "ok"}


@router.get("/health", include_in_schema=False)
def health() -> dict[str, str]:
    """``/healthz`` under its earlier name, which scripts and the benchmarks still ask."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={503: {"description": "the database did not answer (`database_unavailable`)"}},
)
async def readyz(request: Request) -> dict[str, str]:
    """Ready to serve: the database answered ``SELECT 1`` through the app's pool. 503 ``database_unavailable`` when it
    did not, or not within a few seconds."""
    sessions: Callable[[], Session] = request.app.state.sessions
    try:
        with anyio.fail_after(READY_WITHIN_SECONDS):
            # Abandoned on timeout: the thread ends when the driver gives up, the probe is answered now.
            await to_thread.run_sync(_ask, sessions, abandon_on_cancel=True)
    except (_NoAnswer, SQLAlchemyError, OSError, TimeoutError) as error:
        log.warning("not ready: the database did not answer: %s", _reason(error))
        unavailable = DatabaseUnavailable("the database did not answer; see the server's log", [{"check": "database"}])
        raise unavailable from None
    return {"status": "ok"}


def _ask(sessions: Callable[[], Session]) -> None:
    """``SELECT 1`` on a connection of the app's pool, outside any transaction of SQLAlchemy's: on SQLite a transaction
    would wait for the writers' turn (``kit.db._WriterTurn``), and a probe must not queue behind a long write."""
    with sessions() as session:
        engine = session.get_bind()
    if not isinstance(engine, Engine):
        raise TypeError(f"the app's sessions are bound to {engine!r}, not an engine")
    try:
        connection = engine.raw_connection()  # pinged first if it sat idle, as every checkout
        try:
            cursor = connection.cursor()
            cursor.execute("SELECT 1")
            cursor.fetchone()
            cursor.close()
        finally:
            connection.close()  # back to the pool, whose reset ends what the driver began
    except engine.dialect.loaded_dbapi.Error as error:  # the driver's own errors: nothing of SQLAlchemy wraps them here
        raise _NoAnswer(str(error)) from error


class _NoAnswer(Exception):
    """The database driver failed to connect or to answer."""


def _reason(error: BaseException) -> object:
    if isinstance(error, TimeoutError):
        return f"no answer within {READY_WITHIN_SECONDS:g} s"
    return getattr(error, "orig", None) or error
