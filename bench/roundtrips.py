"""Round trips to PostgreSQL, counted on the wire: a TCP proxy in front of the server that reads what each client
sends and counts the times it asks for the server's answers.

A round trip is what costs a client a wait for the network and the server, whatever the driver does: a statement, a
``BEGIN`` or ``COMMIT``, the pool's ping, the preparing of a statement. In PostgreSQL's protocol a client asks for
answers with a ``Sync`` (the end of an extended-protocol request, or of a pipeline), a simple ``Query``, a ``Flush``
(a pipelined client that needs results) or a ``FunctionCall``; whatever else it sends waits for one of those. One
round trip is counted for each time the client asks, unless it asked already and the server has not answered since
(psycopg ends a pipeline with ``Sync`` and ``Flush`` together, and waits once). So a pipeline of four inserts and its
``Sync`` is one round trip, although the server answers the first insert while the client is still sending the
second; counting each time the client speaks after the server would take that for two.

The proxy declines TLS itself (a client that asks for it is told ``N``, as by a server without TLS) so that it can read
the messages; it is for benchmarks on a local server only.
"""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

ASKS_FOR_ANSWERS = frozenset(b"SQHF")
"""The message types after which a client waits: Sync, Query, Flush, FunctionCall."""

_SSL_REQUEST, _GSSENC_REQUEST = 80877103, 80877104
"""Codes of the untyped requests a client may send before its startup message."""


@dataclass
class Frontend:
    """One client's byte stream, split into protocol messages: untyped ones (an encryption request, then the startup
    message) until the session starts, then typed ones (a byte, a length, the body)."""

    started: bool = False
    _buffer: bytearray = field(default_factory=bytearray)

    def feed(self, chunk: bytes) -> tuple[int, bool]:
        """(messages in ``chunk`` that ask for answers, whether the client asked for encryption: it is refused)."""
        self._buffer += chunk
        asked, wants_encryption = 0, False
        while True:
            header = 4 if self.started else 8
            if len(self._buffer) < header + (1 if self.started else 0):
                break
            if self.started:
                kind = self._buffer[0]
                (length,) = struct.unpack_from("!i", self._buffer, 1)
                if len(self._buffer) < 1 + length:
                    break
                del self._buffer[: 1 + length]
                asked += kind in ASKS_FOR_ANSWERS
            else:
                length, code = struct.unpack_from("!ii", self._buffer)
                if len(self._buffer) < length:
                    break
                del self._buffer[:length]
                wants_encryption = wants_encryption or code in (_SSL_REQUEST, _GSSENC_REQUEST)
                self.started = code not in (_SSL_REQUEST, _GSSENC_REQUEST)
        return asked, wants_encryption


@dataclass
class _Connection:
    answered: bool = True
    """Whether the server has spoken since the client last asked for answers."""


@dataclass
class TurnCounter:
    """Counts round trips through the proxy, over all its connections."""

    turns: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client_asks(self, connection: _Connection) -> None:
        with self._lock:
            if connection.answered:
                self.turns += 1
                connection.answered = False

    def server_sends(self, connection: _Connection) -> None:
        connection.answered = True

    def reset(self) -> None:
        with self._lock:
            self.turns = 0


@contextmanager
def proxy(host: str, port: int) -> Iterator[tuple[int, TurnCounter]]:
    """A proxy to ``host:port`` on a free local port; yields the port and its counter. Closed on exit."""
    counter = TurnCounter()
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    stopping = threading.Event()

    def serve() -> None:
        while not stopping.is_set():
            try:
                client, _ = listener.accept()
            except OSError:
                return
            server = socket.create_connection((host, port))
            for sock in (client, server):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            state = _Connection()
            threading.Thread(target=_from_client, args=(client, server, counter, state), daemon=True).start()
            threading.Thread(target=_from_server, args=(server, client, counter, state), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], counter
    finally:
        stopping.set()
        listener.close()


def _from_client(client: socket.socket, server: socket.socket, counter: TurnCounter, state: _Connection) -> None:
    frontend = Frontend()

    def passed(chunk: bytes) -> bytes:
        asked, wants_encryption = frontend.feed(chunk)
        if asked:
            counter.client_asks(state)
        if wants_encryption:  # answered here, never forwarded: the client goes on in plain text
            client.sendall(b"N")
            return b""
        return chunk

    _pump(client, server, passed)


def _from_server(server: socket.socket, client: socket.socket, counter: TurnCounter, state: _Connection) -> None:
    def passed(chunk: bytes) -> bytes:
        counter.server_sends(state)
        return chunk

    _pump(server, client, passed)


def _pump(source: socket.socket, target: socket.socket, passed: Callable[[bytes], bytes]) -> None:
    """Pass ``source``'s bytes on to ``target``, each chunk as ``passed`` lets it through (it may hold it back)."""
    try:
        while chunk := source.recv(65536):
            if forwarded := passed(chunk):
                target.sendall(forwarded)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
