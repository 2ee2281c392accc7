"""From domain events to mails waiting to be sent: the outbox consumer that writes a ``member_mails`` row for each
event a member should hear about.

It only writes rows, in the dispatcher's transaction, so each event is considered exactly once. A row is made per
channel the member can be reached on (``channels``): an e-mail when they have an address, a push notification when
at least one of their devices takes them. No row is made for what would never be sent: a kind the program switched
off, a member who cannot be reached, marketing to a member who has not agreed to it, an event too old to mail about
(an import's history). Points earned gather into one digest a day per channel: a new event adds to the digest still
waiting, or waits a day after the last one sent.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.mailing import repository
from punchcard.mailing.channels import Channel
from punchcard.mailing.domain import EMAIL_ONLY, FOR_EVENT, STALE_AFTER, TRANSACTIONAL, MailKind, Status, digest_due
from punchcard.mailing.models import MemberMail
from punchcard.member import service as members
from punchcard.outbox.domain import Message
from punchcard.push import service as push


class MailQueue:
    name = "mailing.queue"

    def wants(self, event_type: str) -> bool:
        return event_type in FOR_EVENT

    def handle(self, session: Session, messages: Sequence[Message], now: datetime) -> None:
        member_ids = {message.member_id for message in messages if message.member_id is not None}
        with_devices = push.with_devices(session, member_ids) if member_ids else set()
        for message in messages:
            queue(session, message, now, with_devices)


def queue(session: Session, message: Message, now: datetime, with_devices: Collection[int]) -> list[MemberMail]:
    """The mails ``message`` calls for, one per channel, queued (or added to the waiting digest); none when it calls
    for none. ``with_devices``: the members (of the batch) with a device that takes notifications."""
    kind = FOR_EVENT[message.type]
    if message.member_id is None or message.occurred_at < now - STALE_AFTER:
        return []
    if kind is MailKind.DONATION_RECEIPT and message.payload.get("source") == "standing":
        return []  # a standing gift gives with every earning: the portal shows those, a receipt each would be noise
    member = members.by_id(session, message.program_id, message.member_id)
    marketing = kind not in TRANSACTIONAL
    if member is None or (marketing and not member.marketing_consent):
        return []
    if not repository.enabled(session, message.program_id, kind):
        return []
    reachable = {Channel.EMAIL: bool(member.email), Channel.PUSH: member.id in with_devices and kind not in EMAIL_ONLY}
    return [_queue(session, message, member.id, kind, channel, now) for channel in Channel if reachable[channel]]


def _queue(
    session: Session, message: Message, member_id: int, kind: MailKind, channel: Channel, now: datetime
) -> MemberMail:
    facts: dict[str, Any] = dict(message.payload)
    if kind is MailKind.POINTS_EARNED:
        waiting = repository.waiting(session, member_id, kind, channel)
        if waiting is not None:
            waiting.facts = {**waiting.facts, "points": int(waiting.facts["points"]) + int(facts["points"])}
            return waiting
        send_after = digest_due(repository.last_sent(session, member_id, kind, channel), now)
        facts = {"points": facts["points"]}
    else:
        send_after = now
    mail = MemberMail(
        program_id=message.program_id,
        member_id=member_id,
        kind=kind.value,
        channel=channel.value,
        marketing=kind not in TRANSACTIONAL,
        event_id=message.id,
        facts=facts,
        status=Status.QUEUED.value,
        created_at=now,
        send_after=send_after,
    )
    session.add(mail)
    session.flush()
    return mail
