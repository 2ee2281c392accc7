"""Whether a TCP port can be listened on, checked before a command starts anything that needs it: a port in use is
one line that says which and what to do, not a traceback from deep inside a server that was half started."""

from __future__ import annotations

import socket
from contextlib import closing


def is_free(host: str, port: int) -> bool:
    """Whether ``host:port`` can be bound now (with ``SO_REUSEADDR``, as servers bind: a port left in TIME_WAIT by
    an earlier run counts as free). Another process may still take it before the caller binds; the caller's own
    error then stands."""
    with closing(socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str) -> int:
    """A port on ``host`` that nothing listens on now, chosen by the system."""
    with closing(socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
    return port
