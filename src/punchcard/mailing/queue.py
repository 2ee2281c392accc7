"""From domain events to mails waiting to be sent: the outbox consumer that writes a ``member_mails`` row for each
event a member should hear about.

It only writes rows, in the dispatcher's transaction, so each event is considered exactly once. No row is made for
what would never be sent: a kind the program switched off, a member without an address, marketing to a member who
has not agreed to it, an event too old to mail about (an import's history). Points earned gather into one digest a
day: a new event adds to the digest still waiting, or waits a day after the last one sent.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.mailing import repository
from punchcard.mailing.domain import FOR_EVENT, STALE_AFTER, TRANSACTIONAL, MailKind, Status, digest_due
from punchcard.mailing.models import MemberMail
from punchcard.member import service as members
from punchcard.outbox.domain import Message


class MailQueue:
    name = "mailing.queue"

    def wants(self, event_type: str) -> bool:
        return event_type in FOR_EVENT

    def handle(self, session: Session, messages: Sequence[Message], now: datetime) -> None:
        for message in messages:
            queue(session, message, now)


def queue(session: Session, message: Message, now: datetime) -> MemberMail | None:
    """The mail ``message`` calls for, queued (or added to the waiting digest); ``None`` when none is to be sent."""
    kind = FOR_EVENT[message.type]
    if message.member_id is None or message.occurred_at < now - STALE_AFTER:
        return None
    member = members.by_id(session, message.program_id, message.member_id)
    marketing = kind not in TRANSACTIONAL
    if member is None or not member.email or (marketing and not member.marketing_consent):
        return None
    if not repository.enabled(session, message.program_id, kind):
        return None
    facts: dict[str, Any] = dict(message.payload)
    if kind is MailKind.POINTS_EARNED:
        waiting = repository.waiting(session, member.id, kind)
        if waiting is not None:
            waiting.facts = {**waiting.facts, "points": int(waiting.facts["points"]) + int(facts["points"])}
            return waiting
        send_after = digest_due(repository.last_sent(session, member.id, kind), now)
        facts = {"points": facts["points"]}
    else:
        send_after = now
    mail = MemberMail(
        program_id=message.program_id,
        member_id=member.id,
        kind=kind.value,
        marketing=marketing,
        event_id=message.id,
        facts=facts,
        status=Status.QUEUED.value,
        created_at=now,
        send_after=send_after,
    )
    session.add(mail)
    session.flush()
    return mail
