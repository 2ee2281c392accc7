"""The outbox consumer that turns purchases into scheduled survey invitations.

A purchase is heard as ``points.earned`` with the cause ``purchase`` (the event every recorded purchase of a member
gives), after it committed: scheduling never delays or fails the purchase. Each event is handled once, in the
dispatcher's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.outbox.domain import Message
from punchcard.program import service as programs
from punchcard.survey import service


class SurveyScheduler:
    name = "survey.scheduler"

    def wants(self, event_type: str) -> bool:
        return event_type == "points.earned"

    def handle(self, session: Session, messages: Sequence[Message], now: datetime) -> None:
        for message in messages:
            order_id = message.payload.get("order_id")
            if message.payload.get("cause") != "purchase" or not order_id or message.member_id is None:
                continue
            program = programs.current(session, message.program_id).program
            if program.surveys:
                service.schedule(
                    session, program, message.program_id, message.member_id, str(order_id), message.occurred_at, now
                )
