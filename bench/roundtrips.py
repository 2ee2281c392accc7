"""Round trips to the database, counted on the wire: a TCP proxy in front of PostgreSQL that counts each time a client
speaks after the server has answered.

A round trip is what costs a client a wait for the network and the server, whatever the driver does: a statement, a
``BEGIN`` or ``COMMIT``, the pool's ping, the preparing of a statement. Several messages a client sends before it reads
an answer (pipelining) are one round trip. Counting statements in the driver misses the ones the driver adds itself;
this does not.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field


@dataclass
class _Connection:
    client_spoke_last: bool = False


@dataclass
class TurnCounter:
    """Counts round trips through the proxy, over all its connections."""

    turns: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def client_sends(self, connection: _Connection) -> None:
        with self._lock:
            if not connection.client_spoke_last:
                self.turns += 1
                connection.client_spoke_last = True

    def server_sends(self, connection: _Connection) -> None:
        with self._lock:
            connection.client_spoke_last = False

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
            threading.Thread(target=_pump, args=(client, server, counter.client_sends, state), daemon=True).start()
            threading.Thread(target=_pump, args=(server, client, counter.server_sends, state), daemon=True).start()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1], counter
    finally:
        stopping.set()
        listener.close()


def _pump(
    source: socket.socket, target: socket.socket, seen: Callable[[_Connection], None], state: _Connection
) -> None:
    """Pass ``source``'s bytes on to ``target``, telling ``seen`` before each chunk."""
    try:
        while chunk := source.recv(65536):
            seen(state)
            target.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, target):
            with suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
