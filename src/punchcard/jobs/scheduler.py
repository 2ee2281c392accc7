"""Runs the scheduled work in the background of ``punchcard serve``, so a small shop needs no cron.

Running it more often than needed is harmless: every run only does what is due, and concurrent runs (several servers,
or cron as well) split the work instead of repeating it.
"""

import logging
import threading

from sqlalchemy import Engine

from punchcard.jobs.service import run
from punchcard.kit.clock import utc_now

log = logging.getLogger(__name__)


def start(engine: Engine, every_seconds: float) -> threading.Event:
    """Start a daemon thread that runs the jobs now and then every ``every_seconds``; set the event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        while not stop.is_set():
            try:
                moment = utc_now()
                run(engine, at=moment, now=moment)
            except Exception:
                log.exception("scheduled jobs failed; retrying at the next interval")
            stop.wait(every_seconds)

    threading.Thread(target=loop, name="punchcard-jobs", daemon=True).start()
    return stop
