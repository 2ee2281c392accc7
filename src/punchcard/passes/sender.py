"""Telling the wallets that passes changed: APNs pushes to the devices registered for an Apple pass, and updates of
Google Wallet objects, through adapters with a narrow contract (``ApplePush``, ``GoogleObjects``) so that tests
and other transports plug in. ``drain`` sends everything due (``punchcard jobs run``, tests); ``start`` repeats it
on a thread of its own (``punchcard serve``, with member mail's schedule).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import Session

from punchcard.kit.background import Repeating
from punchcard.kit.clock import Clock
from punchcard.passes import updates
from punchcard.passes.apns import Apns
from punchcard.passes.domain import Answer, Result
from punchcard.passes.google_api import GoogleWalletApi
from punchcard.passes.signing import AppleCredentials, GoogleCredentials

log = logging.getLogger(__name__)

BATCH = 50
Claimed = TypeVar("Claimed")


class ApplePush(Protocol):
    def push(self, credentials: AppleCredentials, push_token: str) -> Answer:
        """Tell one device that a pass of ``credentials``' type changed; never raises."""
        ...


class GoogleObjects(Protocol):
    def update(self, credentials: GoogleCredentials, object_id: str, body: dict[str, Any], now: datetime) -> Answer:
        """Bring one Google Wallet object up to ``body``; never raises."""
        ...


class PassUpdates:
    def __init__(
        self,
        sessions: Callable[[], Session],
        clock: Clock,
        *,
        apple: ApplePush | None = None,
        google: GoogleObjects | None = None,
    ) -> None:
        self._sessions = sessions
        self._clock = clock
        self._apple: ApplePush = apple or Apns()
        self._google: GoogleObjects = google or GoogleWalletApi()
        self._repeating = Repeating("punchcard-passes", self.drain)

    def start(self, every_seconds: float) -> None:
        self._repeating.start(every_seconds)

    def stop(self) -> None:
        self._repeating.stop()

    def drain(self) -> int:
        """Send every update due now; returns how many the wallets took."""
        now = self._clock.now()
        pushed = self._rounds(
            updates.claim_pushes,
            lambda push: self._apple.push(push.credentials, push.push_token),
            updates.record_pushes,
        )
        updated = self._rounds(
            updates.claim_objects,
            lambda update: self._google.update(update.credentials, update.object_id, update.body, now),
            updates.record_objects,
        )
        return pushed + updated

    def _rounds(
        self,
        claim: Callable[[Session, datetime, int], Sequence[Claimed]],
        send: Callable[[Claimed], Answer],
        record: Callable[[Session, Sequence[tuple[Claimed, Answer]], datetime], None],
    ) -> int:
        """Claim a batch (committed before anything is sent), send each, record the answers; until none is due."""
        taken = 0
        while True:
            with self._sessions() as session:
                batch = claim(session, self._clock.now(), BATCH)
                session.commit()
            if not batch:
                return taken
            outcomes = [(item, self._sent(send, item)) for item in batch]
            with self._sessions() as session:
                record(session, outcomes, self._clock.now())
                session.commit()
            taken += sum(answer.result is Result.DELIVERED for _, answer in outcomes)

    @staticmethod
    def _sent(send: Callable[[Claimed], Answer], item: Claimed) -> Answer:
        try:
            return send(item)
        except Exception as failure:  # an adapter that broke its promise: the update is tried again later
            log.exception("a wallet update failed")
            return Answer(Result.TRY_AGAIN, None, f"{type(failure).__name__}: {failure}"[:200])
