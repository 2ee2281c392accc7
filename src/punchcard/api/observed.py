"""What every request leaves behind: its id (in ``X-Request-Id`` and in every log line written for it) and its count
and duration in the metrics.

One pure ASGI middleware, outermost, does both: it sees every answer (the 413 and 401 given before routing too), and a
request pays for one layer, not two (docs/performance.md, "Observing requests"). A client's own ``X-Request-Id`` is
kept when it is sane (``SANE_ID``: what a proxy or a shop's tracing sends), so a request can be followed from the
shop through a proxy to here; otherwise a new one is made. Metrics are labelled by the route's template
(``/api/v1/members/{external_id}``), never by the path, so ids in paths make no new series.
"""

from __future__ import annotations

import re
import secrets
import time

from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from punchcard.kit import metrics
from punchcard.kit.logs import REQUEST_ID

HEADER = b"x-request-id"
SANE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:@=+/-]{0,127}")
"""A request id accepted from a client: up to 128 characters that need no quoting in a header or a log line."""
UNMATCHED = "unmatched"
"""The route label of a request that reached no route: an unknown path, or one answered before routing (413, or the
401 of a write without a valid key)."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods counted under their own name; any other is counted as ``other`` (a client may send any token)."""


class Observed:
    """Give each request an id and count it, with its duration, under its route's template; see the module."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._series: dict[tuple[str, str, str], tuple[Counter, Histogram]] = {}
        """Each (method, route, status)'s counter and histogram, looked up once: ``labels()`` costs several times
        what counting does."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _request_id(scope)
        raw_id = request_id.encode()
        status = 500  # what the server answers if the app raises before answering
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (HEADER, raw_id)]
            await send(message)

        token = REQUEST_ID.set(request_id)
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            counted, timed = self._series_of(scope, status)
            counted.inc()
            timed.observe(time.perf_counter() - started)
        # Reset only after an answer: an error raised through here is logged by the handlers outside this middleware
        # (Starlette's server-error handler, the server), in this request's context, and should carry its id.
        REQUEST_ID.reset(token)

    def _series_of(self, scope: Scope, status: int) -> tuple[Counter, Histogram]:
        method = scope["method"] if scope["method"] in METHODS else "other"
        key = (method, route_of(scope), str(status))
        series = self._series.get(key)
        if series is None:
            series = self._series[key] = (metrics.HTTP_REQUESTS.labels(*key), metrics.HTTP_SECONDS.labels(*key[:2]))
        return series


def _request_id(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == HEADER:
            given = value.decode("latin-1")
            return given if SANE_ID.fullmatch(given) else new_id()
    return new_id()


def new_id() -> str:
    """32 random hexadecimal digits (128 bits, as a UUID's, for a fifth of ``uuid4``'s cost)."""
    return secrets.token_hex(16)


def route_of(scope: Scope) -> str:
    """The template of the route that answered: an API route's path (``/api/v1/members/{external_id}``), a mount's
    prefix with ``/{path}`` (the static assets), a plain route's path when it has no parameters (``/openapi.json``);
    ``UNMATCHED`` when nothing was routed."""
    template = getattr(
        scope.get("route"), "path_format", None
    )  # the path without convertors: ``{id}``, not ``{id:path}``
    if isinstance(template, str):
        return template
    if "endpoint" not in scope:
        return UNMATCHED
    if "app_root_path" in scope:  # set by a mount: its prefix is what the root path gained
        return f"{scope['root_path'][len(scope['app_root_path']) :]}/{{path}}"
    return UNMATCHED if scope.get("path_params") else str(scope["path"])
