"""What a consumer receives, and when a failed delivery is tried again (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

MAX_ATTEMPTS = 12
"""Attempts before a delivery is given up: with the backoff below, about four hours of trying."""
FIRST_RETRY = timedelta(seconds=10)
LONGEST_WAIT = timedelta(hours=1)


def retry_at(now: datetime, attempts: int) -> datetime | None:
    """When to try again after ``attempts`` failed attempts: 10 s, doubling, at most an hour apart; ``None`` once
    ``MAX_ATTEMPTS`` have failed (the delivery is given up and stays visible)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + min(FIRST_RETRY * (1 << (attempts - 1)), LONGEST_WAIT)


@dataclass(frozen=True)
class Message:
    """One committed domain event as a consumer sees it: the envelope with readable ids, and the payload."""

    id: int
    type: str
    schema_version: int
    program_id: int
    program: str
    """The program's slug."""
    member_id: int | None
    member: str | None
    """The member's external id (the shop's), when the event is about a member."""
    occurred_at: datetime
    recorded_at: datetime
    payload: dict[str, Any]
    attempt: int
    """1 on the first delivery to this consumer, more on retries."""

    def as_json(self) -> dict[str, Any]:
        """The event as it is documented (docs/events.md) and sent to other systems."""
        return {
            "id": self.id,
            "type": self.type,
            "schema_version": self.schema_version,
            "program": self.program,
            "member": self.member,
            "occurred_at": self.occurred_at.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
            "payload": self.payload,
        }
