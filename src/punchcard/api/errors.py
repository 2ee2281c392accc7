"""Every failure leaves the API as ``{"error": {"code", "message", "details"}}`` with a 4xx status.

Malformed JSON is 400 ``malformed_json``; wrong types and missing fields are 422 ``validation_error`` with one detail
per field; business rules use their own codes (``docs/errors.md``). A 500 means a bug, never bad input.
"""

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from starlette.exceptions import HTTPException

from punchcard.kit.db import is_conflict, is_disconnect
from punchcard.kit.errors import PunchcardError, body_failure
from punchcard.kit.http import error_response, try_again
from punchcard.kit.logs import current_request_id

log = logging.getLogger(__name__)

_HTTP_CODES = {
    400: "malformed_json",  # FastAPI's own answer to a body it cannot parse (e.g. nested too deeply)
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def install(app: FastAPI) -> None:
    @app.exception_handler(PunchcardError)
    async def _business(_: Request, error: PunchcardError) -> JSONResponse:
        answer = error_response(error.status, error.code, error.message, error.details)
        answer.headers.update(error.headers)
        return answer

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, error: RequestValidationError) -> JSONResponse:
        failure = body_failure(error.errors())
        return error_response(failure.status, failure.code, failure.message, failure.details)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, error: HTTPException) -> JSONResponse:
        code = _HTTP_CODES.get(error.status_code, "http_error")
        return error_response(error.status_code, code, str(error.detail))

    @app.exception_handler(DBAPIError)
    async def _database(_: Request, error: DBAPIError) -> JSONResponse:
        """A transaction the database gave up (a deadlock, a serialization failure) or whose connection was lost (a
        restart) wrote nothing: the request can simply be sent again. Any other database error is a bug."""
        if not (is_conflict(error) or is_disconnect(error)):
            return _internal_error(error)
        log.warning("answered 503 for a transaction the database lost: %s", error.orig)
        cause = "lost its connection to the database" if is_disconnect(error) else "was given up for a conflicting one"
        return try_again(f"the request's transaction {cause}; nothing was done: send it again")

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, error: Exception) -> JSONResponse:
        answer = _internal_error(error)
        # Starlette answers an unhandled error from outside every middleware, past ``api.observed``: the id is added
        # here (the handler runs in the request's context, which still holds it).
        request_id = current_request_id()
        if request_id is not None:
            answer.headers["X-Request-Id"] = request_id
        return answer


def _internal_error(error: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=error)
    return error_response(500, "internal_error", "an unexpected error occurred; it has been logged")
