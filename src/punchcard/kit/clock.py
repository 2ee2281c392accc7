"""The one place that reads the wall clock; everything below the boundary takes ``now`` as an argument.

The application asks its ``Clock`` for the time, never the system directly, so a test (or a demo that replays a
fixed day) sets the clock instead of depending on the day it runs: a test that read the real date broke when the
date passed one written in it.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from typing import Protocol


def utc_now() -> datetime:
    return datetime.now(UTC)


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real time, in UTC."""

    def now(self) -> datetime:
        return utc_now()


class FixedClock:
    """A clock that reads what it was set to, until it is set again or moved on; safe to share between threads."""

    def __init__(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a clock keeps aware datetimes only")
        self._moment = moment
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with self._lock:
            return self._moment

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a clock keeps aware datetimes only")
        with self._lock:
            self._moment = moment

    def advance(self, by: timedelta) -> datetime:
        with self._lock:
            self._moment += by
            return self._moment
