"""Standing gifts to causes, given just after the earning that triggers them: an outbox consumer that hears
``points.earned`` and, for a member who set a standing gift (``PUT /members/{id}/standing-gift``), gives its share
(``cause.service.give_standing``: under the member's lock, keyed by the event, so a delivery made twice gives once).

Why after the commit and not inside the event: the event path would pay a read of the member's standing gift on every
earning of a program with causes; here it is one read per batch of events, and a purchase's answer does not wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.cause import service as causes
from punchcard.ledger.domain import PointsEarned
from punchcard.outbox.domain import Message
from punchcard.program import service as programs


class StandingGifts:
    name = "cause.standing_gifts"

    def wants(self, event_type: str) -> bool:
        return event_type == PointsEarned.type

    def handle(self, session: Session, messages: Sequence[Message], now: datetime) -> None:
        heard = [message for message in messages if message.member_id is not None]
        gifts = causes.standing_of(session, {message.member_id for message in heard if message.member_id})
        for message in sorted(heard, key=lambda message: (message.member_id or 0, message.id)):  # one lock order
            assert message.member_id is not None
            gift = gifts.get(message.member_id)
            if gift is None or message.id <= gift.after_event:
                continue  # no gift, or an earning told before the member set it
            terms = programs.current(session, message.program_id).cause_terms
            causes.give_standing(
                session,
                terms,
                message.member_id,
                gift,
                earned=int(str(message.payload["points"])),
                key=f"standing:{message.id}",
                now=now,
            )
