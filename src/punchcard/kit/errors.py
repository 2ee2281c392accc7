"""The one error type every expected business failure derives from.

An error carries a stable snake_case ``code`` that names the broken rule, an HTTP status, a human message and optional
details. The API turns it into ``{"error": {"code", "message", "details"}}``; nothing else is ever shown for bad input.
"""

from typing import Any, ClassVar


class PunchcardError(Exception):
    """Base of all expected failures; subclasses fix ``code`` and ``status``."""

    code: ClassVar[str] = "bad_request"
    status: ClassVar[int] = 400

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []


class NotFound(PunchcardError):
    code = "not_found"
    status = 404


class Conflict(PunchcardError):
    code = "conflict"
    status = 409


class Unprocessable(PunchcardError):
    code = "unprocessable"
    status = 422


class ValidationFailed(PunchcardError):
    code = "validation_error"
    status = 422


class Unauthorized(PunchcardError):
    code = "unauthorized"
    status = 401


class Forbidden(PunchcardError):
    code = "forbidden"
    status = 403


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"


class TryAgain(PunchcardError):
    """The database gave the request's transaction up (a deadlock or a serialization failure) more often than we
    retry it: nothing was written, and the same request can be sent again after ``retry_after`` seconds."""

    code = "busy_try_again"
    status = 503
    retry_after: ClassVar[int] = 1
