"""What every HTTP module may use, whatever its feature: the request's session (the request commits it), its moment,
the checks every request passes (JSON bodies, no NUL), the error envelope, and the retry of a transaction the database
gave up. The dependencies that need the caller's key and program are ``program.http``'s."""

import functools
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated, Any, ParamSpec, TypeVar, cast

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from punchcard.kit.db import is_conflict, retry_on_conflict
from punchcard.kit.errors import PunchcardError, TryAgain, ValidationFailed, envelope

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")


def error_response(status: int, code: str, message: str, details: list[Any] | None = None) -> JSONResponse:
    """The error envelope: ``{"error": {"code", "message", "details"}}`` (``docs/errors.md``)."""
    return JSONResponse(envelope(code, message, details), status_code=status)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """A session for the request; endpoints commit, and anything uncommitted is rolled back when it closes.

    Opening a session does no I/O, so it happens on the event loop; closing talks to the database only while a
    transaction is still open (a read, or a write that failed), and then runs in the thread pool. Each hop to the
    thread pool costs more than most queries (docs/performance.md), so the request path makes as few as it can.
    """
    session = request.app.state.sessions()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)
        else:
            session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_now(request: Request) -> datetime:
    """The time the request happens at, from the application's clock (``kit.clock``), which tests set."""
    now: datetime = request.app.state.clock.now()
    return now


NowDep = Annotated[datetime, Depends(get_now)]


class UnsupportedMediaType(PunchcardError):
    code = "unsupported_media_type"
    status = 415


async def require_json(request: Request) -> None:
    """API bodies are JSON. ``curl -d`` without a Content-Type header sends a form instead; say so plainly rather than
    complain that the body is not an object."""
    if request.method not in ("POST", "PUT", "PATCH") or not await request.body():
        return
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise UnsupportedMediaType(
            f"send the body as JSON with 'Content-Type: application/json' (got {content_type or 'no Content-Type'})",
            [{"field": "Content-Type", "message": "must be application/json"}],
        )


async def reject_nul(request: Request) -> None:
    """PostgreSQL text cannot hold NUL: refuse it in the path and the query string as request bodies do."""
    for where, values in (("path", request.path_params.items()), ("query", request.query_params.multi_items())):
        for name, value in values:
            if "\x00" in str(value):
                raise ValidationFailed(
                    f"the request is invalid: {where}.{name}: must not contain the NUL character",
                    [{"field": f"{where}.{name}", "message": "must not contain the NUL character"}],
                )


def try_again(message: str) -> JSONResponse:
    """503 ``busy_try_again`` with ``Retry-After``: the request's transaction wrote nothing and can be sent again."""
    busy = TryAgain(message)
    response = error_response(busy.status, busy.code, busy.message, busy.details)
    response.headers["Retry-After"] = str(busy.retry_after)
    return response


def retried_when_busy(endpoint: Callable[P, R]) -> Callable[P, R | JSONResponse]:
    """For an endpoint that commits its request's ``session`` itself: when the database gives the transaction up (a
    deadlock or a serialization failure), roll back and run the whole endpoint again on a fresh transaction
    (``kit.db.retry_on_conflict``, at most 3 runs); after the last, answer 503 ``busy_try_again`` with
    ``Retry-After`` instead of a 500. For the adjustment and redemption endpoints, until their work moves into a
    service, where the retry belongs."""

    @functools.wraps(endpoint)
    def run(*args: P.args, **kwargs: P.kwargs) -> R | JSONResponse:
        session = cast(Session, kwargs["session"])
        try:
            return retry_on_conflict(lambda: endpoint(*args, **kwargs), before_retry=session.rollback)
        except DBAPIError as error:
            if not is_conflict(error):
                raise
            log.warning("gave the request up after retrying it: %s", error.orig)
        return try_again("the database gave this request up for a conflicting change; nothing was done: send it again")

    return run
