"""Log lines as JSON objects or as text, each carrying the id of the request it was written for.

Why: in production the logs go to a collector (journald, Docker, Loki), which reads one JSON object per line without
guessing at a format; every line written while a request is handled (a warning, an unhandled error, the server's
access line) carries that request's id, the id the client got in ``X-Request-Id``, so one request's lines are found
together. A terminal gets the same lines as text. Only the standard ``logging`` module is used: every library's
loggers (uvicorn's, SQLAlchemy's) come out in the same format.

The id lives in a context variable set by ``api.observed`` for the request; ``stamp_request_ids`` makes every log
record created while it is set carry it as ``record.request_id`` (the thread pool copies the context, so a sync
endpoint's lines carry it too; the group-commit writers serve many requests at once and log without one).
"""

from __future__ import annotations

import json
import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, Literal

REQUEST_ID: ContextVar[str | None] = ContextVar("punchcard_request_id", default=None)
"""The id of the request being handled in this context, if any."""

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"

Format = Literal["json", "text"]


def current_request_id() -> str | None:
    return REQUEST_ID.get()


def stamp_request_ids() -> None:
    """Make every log record carry ``request_id`` (``None`` outside a request), whichever handler formats it. Done
    once per process: the record factory is wrapped, not replaced, so another library's wrapping is kept."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "stamps_request_ids", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        record.request_id = REQUEST_ID.get()
        return record

    factory.stamps_request_ids = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ``time`` (UTC, ISO 8601, milliseconds), ``level``, ``logger``, ``message``,
    ``request_id``, and ``exception`` (the formatted traceback) or ``stack`` when the record has them."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    """``TEXT_FORMAT``, with ``-`` for a line written outside any request."""

    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        if getattr(record, "request_id", None) is None:
            record.request_id = "-"
        return super().format(record)


class StderrHandler(logging.Handler):
    """Writes to whatever ``sys.stderr`` is when the line is written (as ``logging.lastResort`` does), so a command
    run inside another program that swaps it (a test runner) never writes to a stream closed since."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:
            self.handleError(record)


def resolve(log_format: str) -> Format:
    """``auto`` is JSON unless standard error is a terminal (a person is reading)."""
    if log_format == "json":
        return "json"
    if log_format == "text":
        return "text"
    return "text" if sys.stderr.isatty() else "json"


def logging_config(log_format: str, level: str) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` dictionary: every logger's lines (uvicorn's access and error lines included)
    through one handler on the root logger, in ``log_format`` (``auto``, ``json`` or ``text``). It is what ``punchcard
    serve`` hands uvicorn as ``log_config``, so every worker process configures itself the same way."""
    formatter = JsonFormatter if resolve(log_format) == "json" else TextFormatter
    through_root = {"handlers": [], "propagate": True, "level": level}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"punchcard": {"()": f"{formatter.__module__}.{formatter.__qualname__}"}},
        "handlers": {"punchcard": {"class": f"{StderrHandler.__module__}.StderrHandler", "formatter": "punchcard"}},
        "root": {"handlers": ["punchcard"], "level": level},
        "loggers": {name: dict(through_root) for name in ("uvicorn", "uvicorn.error", "uvicorn.access")},
    }


def configure(log_format: str, level: str) -> None:
    """Send the root logger's lines to standard error in ``log_format``, for the commands that run without uvicorn
    (``punchcard worker``, ``punchcard jobs run``). Only this module's own handler is replaced; handlers others added
    to the root logger stay."""
    stamp_request_ids()
    root = logging.getLogger()
    for handler in [handler for handler in root.handlers if isinstance(handler, StderrHandler)]:
        root.removeHandler(handler)
    handler = StderrHandler()
    handler.setFormatter(JsonFormatter() if resolve(log_format) == "json" else TextFormatter())
    root.addHandler(handler)
    root.setLevel(level)
