"""The activity log: every committed domain event, recorded in the audit log by a consumer of the outbox.

The audit log already answers "what happened to this member, and who did it" for staff actions; with the domain
events beside them (``staff_id`` none, ``action`` the event type) the console shows a member's whole story in one
place. The entry is keyed by the event's id (a unique column), so an event delivered twice is recorded once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from punchcard.outbox.domain import Message
from punchcard.staff.models import AuditEntry

_RECORD = {
    "postgresql": postgresql.insert(AuditEntry).on_conflict_do_nothing(index_elements=[AuditEntry.outbox_event_id]),
    "sqlite": sqlite.insert(AuditEntry).on_conflict_do_nothing(index_elements=[AuditEntry.outbox_event_id]),
}


class ActivityLog:
    """Records every domain event in the audit log (a database-only consumer: exactly once)."""

    name = "activity_log"

    def wants(self, event_type: str) -> bool:
        return True

    def handle(self, session: Session, messages: Sequence[Message], now: datetime) -> None:
        session.execute(_RECORD[session.get_bind().dialect.name], [_entry(message) for message in messages])


def _entry(message: Message) -> dict[str, object]:
    target = f"member {message.member}" if message.member is not None else f"program {message.program}"
    return {
        "at": message.occurred_at,
        "staff_id": None,
        "action": message.type,
        "program_id": message.program_id,
        "member_id": message.member_id,
        "target": target[:300],
        "reason": "",
        "details": message.payload,
        "outbox_event_id": message.id,
    }
