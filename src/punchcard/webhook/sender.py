"""Posting due deliveries to their endpoints, signed, and recording every attempt.

A batch is claimed with a lease and committed before any request is made, so no transaction waits on a receiver;
each outcome is recorded in a transaction of its own. A sender killed mid-batch leaves its leased deliveries pending,
and the next sender posts them once the lease has passed: at least once, never lost. A member's deliveries to one
endpoint go out one at a time, oldest first (``repository.claim_due``), so a receiver sees them in order.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy.orm import Session

from punchcard import __version__
from punchcard.kit.background import Repeating
from punchcard.kit.clock import Clock
from punchcard.kit.errors import PunchcardError
from punchcard.webhook import repository
from punchcard.webhook.domain import TIMEOUT_SECONDS, Status, next_attempt, should_disable, signature
from punchcard.webhook.models import WebhookEndpoint
from punchcard.webhook.service import check_url

log = logging.getLogger(__name__)

BATCH = 100
LEASE = timedelta(seconds=TIMEOUT_SECONDS * 3 + 30)
"""How long a claimed delivery is the sender's: longer than one attempt can take."""


@dataclass(frozen=True)
class Job:
    delivery_id: int
    endpoint_id: int
    url: str
    secret: str
    event_id: int
    event_type: str
    body: str
    attempts: int
    first_attempt_at: datetime | None


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    milliseconds: int

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Sender:
    """Sends what is due: ``drain`` until nothing is (``punchcard jobs run``, tests), or ``start`` a thread that does
    so every ``every_seconds`` (``punchcard serve``)."""

    def __init__(
        self, sessions: Callable[[], Session], clock: Clock, *, allow_private: bool, client: httpx.Client | None = None
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._allow_private = allow_private
        self._client = client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)
        self._repeating = Repeating("punchcard-webhooks", self.drain)

    def drain(self) -> int:
        """Post every delivery due now, batch after batch; returns how many attempts were made."""
        attempted = 0
        while jobs := self._claim():
            for job in jobs:
                self._record(job, self._post(job))
            attempted += len(jobs)
        return attempted

    def _claim(self) -> list[Job]:
        now = self._clock.now()
        with self._sessions() as session:
            claimed = repository.claim_due(session, now, now + LEASE, BATCH)
            jobs = [
                Job(d.id, e.id, e.url, e.secret, d.event_id, d.event_type, d.body, d.attempts, d.first_attempt_at)
                for d, e in claimed
            ]
            session.commit()
        return jobs

    def _post(self, job: Job) -> Outcome:
        started = time.monotonic()
        body = job.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"Punchcard-Webhooks/{__version__}",
            "Punchcard-Event-Id": str(job.event_id),
            "Punchcard-Event-Type": job.event_type,
            "Punchcard-Delivery-Id": str(job.delivery_id),
            "Punchcard-Signature": signature(job.secret, int(self._clock.now().timestamp()), body),
        }
        try:
            check_url(job.url, self._allow_private)
            response = self._client.post(job.url, content=body, headers=headers)
        except (httpx.HTTPError, PunchcardError) as failure:
            return Outcome(None, f"{type(failure).__name__}: {failure}"[:500], _elapsed(started))
        problem = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
        return Outcome(response.status_code, problem, _elapsed(started))

    def _record(self, job: Job, outcome: Outcome) -> None:
        now = self._clock.now()
        first = job.first_attempt_at or now
        values: dict[str, object] = {
            "attempts": job.attempts + 1,
            "first_attempt_at": first,
            "last_status": outcome.status_code,
            "last_error": outcome.error,
            "locked_until": None,
        }
        with self._sessions() as session:
            if outcome.delivered:
                values |= {"status": Status.DELIVERED.value, "delivered_at": now}
                repository.update_endpoint(session, job.endpoint_id, failing_since=None)
            else:
                retry = next_attempt(first, job.attempts + 1, now)
                values |= (
                    {"next_attempt_at": retry}
                    if retry is not None
                    else {"status": Status.FAILED.value, "failed_at": now}
                )
                self._failing(session, job.endpoint_id, now)
            attempt = {"attempted_at": now, "status_code": outcome.status_code, "error": outcome.error}
            repository.record_attempt(
                session, job.delivery_id, values, {**attempt, "milliseconds": outcome.milliseconds}
            )
            session.commit()

    @staticmethod
    def _failing(session: Session, endpoint_id: int, now: datetime) -> None:
        """Note that the endpoint fails; disable it once it has failed for ``domain.DISABLE_AFTER``."""
        repository.failing(session, endpoint_id, now)
        endpoint = session.get(WebhookEndpoint, endpoint_id)
        if endpoint is not None and endpoint.disabled_at is None and should_disable(endpoint.failing_since, now):
            endpoint.disabled_at = now
            endpoint.disabled_reason = "every attempt failed for 3 days"
            log.warning("webhook %d disabled: every attempt failed since %s", endpoint_id, endpoint.failing_since)

    def start(self, every_seconds: float) -> None:
        self._repeating.start(every_seconds)

    def stop(self) -> None:
        self._repeating.stop()


def _elapsed(started: float) -> int:
    return int((time.monotonic() - started) * 1000)
