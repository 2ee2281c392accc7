"""The one error type every expected business failure derives from.

An error carries a stable snake_case ``code`` that names the broken rule, an HTTP status, a human message and optional
details. The API turns it into ``{"error": {"code", "message", "details"}}``; nothing else is ever shown for bad input.
"""

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar


class PunchcardError(Exception):
    """Base of all expected failures; subclasses fix ``code`` and ``status``."""

    code: ClassVar[str] = "bad_request"
    status: ClassVar[int] = 400

    def __init__(self, message: str, details: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []
        self.headers: dict[str, str] = {}
        """Headers the answer carries (``Retry-After``)."""

    def envelope(self) -> dict[str, Any]:
        """The error as the API shows it (``docs/errors.md``)."""
        return envelope(self.code, self.message, self.details)


def envelope(code: str, message: str, details: list[Any] | None = None) -> dict[str, Any]:
    """``{"error": {"code", "message", "details"}}``: every error, in a response, a batch's item or a stored outcome."""
    return {"error": {"code": code, "message": message, "details": details or []}}


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


def received_with_another_body(event_id: str) -> IdempotencyConflict:
    """An event id sent again with a different body: whether the first was recorded at once or accepted for later."""
    return IdempotencyConflict(
        f"event {event_id!r} was already received with a different body", [{"event_id": event_id}]
    )


class TryAgain(PunchcardError):
    """The database gave the request's transaction up (a deadlock or a serialization failure) more often than we
    retry it: nothing was written, and the same request can be sent again after ``retry_after`` seconds."""

    code = "busy_try_again"
    status = 503
    retry_after: ClassVar[int] = 1


class MalformedJson(PunchcardError):
    code = "malformed_json"


def body_failure(errors: Sequence[Mapping[str, Any]]) -> PunchcardError:
    """What pydantic's errors about a request body mean: ``malformed_json`` when it is not JSON at all, else
    ``validation_failure``. The API's handler and the portal's script endpoints answer alike."""
    if any(error.get("type") == "json_invalid" for error in errors):
        return MalformedJson("the request body is not valid JSON")
    return validation_failure(errors)


def validation_failure(errors: Sequence[Mapping[str, Any]]) -> ValidationFailed:
    """A ``validation_error`` from pydantic's errors: one detail per field (``lines.0.quantity``), and the first
    three in the message. The API's 422 for a whole body and a batch's answer for one item say it alike."""
    details = [
        {"field": _field(tuple(error["loc"])), "message": str(error["msg"]).removeprefix("Value error, ")}
        for error in errors
    ]
    summary = "; ".join(f"{detail['field']}: {detail['message']}" for detail in details[:3])
    return ValidationFailed(f"the request is invalid: {summary}", details)


def _field(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part != "body"]
    return ".".join(parts) or "body"
