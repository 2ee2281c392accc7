"""A real HTTP server on 127.0.0.1 that receives webhooks: it keeps every request and answers with the status codes
it is told to, in order (then 200), and can run a hook on each request (to kill a sender mid-batch, say)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    url: str = ""
    requests: list[Received] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    """Status codes to answer with, first to last; 200 once they are used up."""
    on_request: Callable[[Received], None] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, request: Received) -> int:
        with self.lock:
            self.requests.append(request)
            status = self.answers.pop(0) if self.answers else 200
        if self.on_request is not None:
            self.on_request(request)
        return status


@contextmanager
def serving_posts(answer: Callable[[Received], tuple[int, dict[str, str]]]) -> Iterator[str]:
    """A real HTTP server on a free port of 127.0.0.1, in a thread, for the ``with`` block: each POST is answered with
    ``answer(request)``'s status and headers. Yields the server's base URL."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            request = Received(self.path, {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length))
            status, headers = answer(request)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@contextmanager
def receiving(answers: list[int] | None = None) -> Iterator[Receiver]:
    receiver = Receiver(answers=list(answers or []))
    with serving_posts(lambda request: (receiver.take(request), {})) as base:
        receiver.url = f"{base}/hooks"
        yield receiver
