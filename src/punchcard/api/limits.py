"""What a request must pass before the application reads its body: a size limit, and for API writes, the key.

FastAPI reads, parses and validates a body before it runs any dependency, so neither check can be a dependency: a
caller without a key could make the server read and parse a body of any size before the 401. Both are pure ASGI
middleware, in front of everything (API, portal, admin console). The order of checks is in docs/errors.md.
"""

from collections.abc import Callable, Mapping

from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from punchcard.kit.errors import PunchcardError
from punchcard.kit.http import error_response
from punchcard.program.http import authenticate, remember

# API writes, whose key is checked before their body: the API's paths, and the methods that carry a body.
API_PREFIX = "/api/v1/"
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class PayloadTooLarge(PunchcardError):
    code = "payload_too_large"
    status = 413


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than the limit of {limit} bytes", [{"limit_bytes": limit}])


async def refuse(error: PunchcardError, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer ``error`` in the envelope and close the connection: the body is unread, and to reach the next request on
    the connection the server would have to read (and drop) all of it."""
    response = error_response(error.status, error.code, error.message, error.details)
    response.headers["connection"] = "close"
    await response(scope, receive, send)


class BodyLimit:
    """Refuse a request body larger than ``limit`` bytes with 413, before the app buffers or parses it.

    A ``Content-Length`` over the limit is answered at once: the app is not called and no byte is received (the
    server holds a body to its declared length, so one within the limit is not counted). A body without one (chunked)
    is counted as the app receives it, and answered 413 as soon as the count passes the limit. ``by_prefix`` gives the
    paths under a prefix a limit of their own (the longest matching prefix wins), for an endpoint that needs more.
    """

    def __init__(self, app: ASGIApp, limit: int, by_prefix: Mapping[str, int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.by_prefix = sorted((by_prefix or {}).items(), key=lambda item: len(item[0]), reverse=True)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self._limit_for(scope["path"])
        declared = _content_length(scope)
        if declared is None:
            await _CountedBody(self.app, limit)(scope, receive, send)
        elif declared > limit:
            await refuse(too_large(limit), scope, receive, send)
        else:
            await self.app(scope, receive, send)

    def _limit_for(self, path: str) -> int:
        return next((limit for prefix, limit in self.by_prefix if path.startswith(prefix)), self.limit)


def _content_length(scope: Scope) -> int | None:
    """The declared body length; a value that is not a number counts as none, so the body is counted instead."""
    value = Headers(scope=scope).get("content-length", "")
    return int(value) if value.isascii() and value.isdigit() else None


class _BodyCutOff(Exception):
    """Raised to the app by ``receive`` once the body has passed the limit."""


class _CountedBody:
    """One request without a declared length: its body counted as the app receives it, and cut off past ``limit``.

    The chunk that passes the limit is dropped and nothing more is received. Whatever the app makes of the cut-off
    (it may raise, or answer 400 for a body it could not read) is replaced by the 413, unless its answer had already
    begun.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit
        self.received = 0
        self.answering = False

    @property
    def cut_off(self) -> bool:
        return self.received > self.limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def counted() -> Message:
            if self.cut_off:
                raise _BodyCutOff
            message = await receive()
            self.received += len(message.get("body", b""))
            if self.cut_off:
                raise _BodyCutOff
            return message

        async def unless_cut_off(message: Message) -> None:
            if self.cut_off and not self.answering:
                return
            self.answering = True
            await send(message)

        try:
            await self.app(scope, counted, unless_cut_off)
        except Exception:
            if not self.cut_off or self.answering:
                raise
        if self.cut_off and not self.answering:
            await refuse(too_large(self.limit), scope, receive, send)


class KeyFirst:
    """Authenticate an API write (``BODY_METHODS`` under ``API_PREFIX``) before its body is read.

    The key is looked up in a short session of its own (``sessions``), in the thread pool, and a missing, unknown or
    revoked key is answered 401 with the body unread. A valid key's caller and program version are remembered for the
    request (``program.http.remember``): the dependencies reuse them, so the key is still read once per request. Reads
    (GET) keep their single trip to the thread pool (``program.http.in_one_trip``) and are not handled here.

    This comes before routing, so a write to an unknown path is 401 without a key, and a NUL in the path or the query
    string (``kit.http.reject_nul``, which needs the route's parameters) is refused after the key.
    """

    def __init__(self, app: ASGIApp, sessions: Callable[[], Session]) -> None:
        self.app = app
        self.sessions = sessions

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in BODY_METHODS or not scope["path"].startswith(API_PREFIX):
            await self.app(scope, receive, send)
            return
        try:
            access = await run_in_threadpool(authenticate, self.sessions, Headers(scope=scope).get("authorization"))
        except PunchcardError as error:
            await refuse(error, scope, receive, send)
            return
        remember(scope, access)
        await self.app(scope, receive, send)
