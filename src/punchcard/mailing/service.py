"""Member mails for the rest of the application: one-click unsubscribe, a member's mails for the console, the
templates a marketer edits, and a preview of any mail in any language."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.mailing import repository
from punchcard.mailing.models import MemberMail as MemberMail  # the rows are how mails cross the boundary
from punchcard.member import service as members
from punchcard.member.service import Member


def unsubscribe(session: Session, token: str, now: datetime) -> Member | None:
    """Turn off the marketing consent of the member a mail's unsubscribe link names; ``None`` for an unknown link.
    Doing it twice changes nothing more."""
    mail = repository.by_unsubscribe_token(session, token)
    if mail is None:
        return None
    member = members.by_id(session, mail.program_id, mail.member_id)
    if member is not None:
        members.update(session, member, {"marketing_consent": False}, now, source="unsubscribe")
    return member


def subscriber(session: Session, token: str) -> Member | None:
    """The member an unsubscribe link names, without changing anything (the confirmation page)."""
    mail = repository.by_unsubscribe_token(session, token)
    return members.by_id(session, mail.program_id, mail.member_id) if mail is not None else None


def mails_of(session: Session, member_id: int) -> Sequence[MemberMail]:
    """The member's latest mails, newest first (the console's member page)."""
    return repository.of_member(session, member_id)
