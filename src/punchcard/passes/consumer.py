"""The outbox's consumer that moves members' passes on when what their card shows changes (points, tier, name):
their update tag becomes the event's id, and ``sender.PassUpdates`` then tells each wallet.

Only the database is written here, in the dispatcher's transaction: a device told before the change commits could
ask for it too early and hear that nothing changed. So each event is handled exactly once, and the telling happens
after the commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.outbox.domain import Message
from punchcard.passes import updates
from punchcard.passes.domain import CHANGING_EVENTS


class PassRefresh:
    name = "passes.refresh"

    def wants(self, event_type: str) -> bool:
        return event_type in CHANGING_EVENTS

    def handle(self, session: Session, messages: Sequence[Message], now: datetime) -> None:
        latest: dict[int, int] = {}
        for message in messages:
            if message.member_id is not None:
                latest[message.member_id] = max(latest.get(message.member_id, 0), message.id)
        if latest:
            updates.mark_changed(session, latest, now)
