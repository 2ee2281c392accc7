"""A job a server process repeats on a thread of its own (posting webhooks, sending member mail): at once, then every
so many seconds, until stopped; a failed round is logged and the next one tries again."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Repeating:
    def __init__(self, name: str, work: Callable[[], object]) -> None:
        self._name = name
        self._work = work
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self, every_seconds: float) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, args=(every_seconds,), name=self._name, daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop after the current round."""
        if self._thread is not None:
            self._stop.set()
            self._thread.join()
            self._thread = None

    def _loop(self, every_seconds: float) -> None:
        while not self._stop.is_set():
            try:
                self._work()
            except Exception:  # the database went away, say; the next round tries again
                log.exception("%s failed; trying again in %s s", self._name, every_seconds)
            self._stop.wait(every_seconds)
