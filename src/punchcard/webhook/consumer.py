"""The outbox consumer that turns every committed domain event into deliveries for the endpoints that want it.

It only writes rows, in the dispatcher's transaction, so each event is fanned out exactly once; the posting is the
sender's (``webhook.sender``), outside any transaction, so a slow receiver never holds up the outbox.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.outbox.domain import Message
from punchcard.webhook import service


class WebhookFanout:
    name = "webhook.fanout"

    def wants(self, event_type: str) -> bool:
        return True  # which endpoint wants which type is the endpoints' rows' to say

    def handle(self, session: Session, messages: Sequence[Message], now: datetime) -> None:
        service.fan_out(session, messages, now)
