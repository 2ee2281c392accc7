"""A port is free when nothing listens on it; a taken one is reported as taken, and the system finds a free one."""

from __future__ import annotations

import socket

from punchcard.kit import ports


def test_a_port_something_listens_on_is_not_free_and_the_system_finds_another() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        other = ports.free_port("127.0.0.1")
        assert not ports.is_free("127.0.0.1", port)
        assert other != port
        assert ports.is_free("127.0.0.1", other)
    assert ports.is_free("127.0.0.1", port)  # closed: free again
