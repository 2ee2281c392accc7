"""Queries of member mails and mail templates."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from punchcard.kit.db import is_postgres
from punchcard.mailing.domain import MailKind, Status
from punchcard.mailing.models import MailTemplate, MemberMail

ALL_LANGUAGES = "*"


def enabled(session: Session, program_id: int, kind: MailKind) -> bool:
    """Whether the program sends this kind of mail (on unless a marketer switched it off)."""
    found = session.execute(
        select(MailTemplate.enabled).where(
            MailTemplate.program_id == program_id,
            MailTemplate.kind == kind.value,
            MailTemplate.language == ALL_LANGUAGES,
        )
    ).scalar_one_or_none()
    return found is None or bool(found)


def template(session: Session, program_id: int, kind: MailKind, language: str) -> MailTemplate | None:
    return session.execute(
        select(MailTemplate).where(
            MailTemplate.program_id == program_id, MailTemplate.kind == kind.value, MailTemplate.language == language
        )
    ).scalar_one_or_none()


def templates(session: Session, program_id: int) -> Sequence[MailTemplate]:
    return session.execute(select(MailTemplate).where(MailTemplate.program_id == program_id)).scalars().all()


def waiting(session: Session, member_id: int, kind: MailKind, channel: str) -> MemberMail | None:
    """The member's mail of this kind and channel still waiting to be sent (a digest gathers into it)."""
    return session.execute(
        select(MemberMail)
        .where(
            MemberMail.member_id == member_id,
            MemberMail.kind == kind.value,
            MemberMail.channel == channel,
            MemberMail.status == Status.QUEUED.value,
        )
        .order_by(MemberMail.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def last_sent(session: Session, member_id: int, kind: MailKind, channel: str) -> datetime | None:
    return session.execute(
        select(func.max(MemberMail.sent_at)).where(
            MemberMail.member_id == member_id,
            MemberMail.kind == kind.value,
            MemberMail.channel == channel,
            MemberMail.status == Status.SENT.value,
        )
    ).scalar_one_or_none()


def marketing_sent_since(session: Session, member_id: int, since: datetime, channel: str) -> list[datetime]:
    """When the member's marketing mails of one channel of the last days were sent (the weekly cap counts them)."""
    rows = session.execute(
        select(MemberMail.sent_at).where(
            MemberMail.member_id == member_id,
            MemberMail.channel == channel,
            MemberMail.marketing.is_(True),
            MemberMail.status == Status.SENT.value,
            MemberMail.sent_at >= since,
        )
    ).scalars()
    return [moment for moment in rows if moment is not None]


def claim_due(session: Session, now: datetime, lease: timedelta, limit: int) -> list[int]:
    """Up to ``limit`` queued mails due at ``now``, leased to the caller (a sender that dies leaves them to the next
    once the lease passes)."""
    query = (
        select(MemberMail.id)
        .where(
            MemberMail.status == Status.QUEUED.value,
            MemberMail.send_after <= now,
            (MemberMail.locked_until.is_(None)) | (MemberMail.locked_until <= now),
        )
        .order_by(MemberMail.send_after, MemberMail.id)
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    ids = [int(found) for found in session.execute(query).scalars()]
    if ids:
        session.execute(update(MemberMail).where(MemberMail.id.in_(ids)).values(locked_until=now + lease))
    return ids


def unsubscribe_token(mail: MemberMail) -> str:
    """The mail's one-click unsubscribe token, made when it is first sent and kept for its retries."""
    if not mail.unsubscribe_token:
        mail.unsubscribe_token = secrets.token_urlsafe(24)
    return mail.unsubscribe_token


def by_unsubscribe_token(session: Session, token: str) -> MemberMail | None:
    return session.execute(select(MemberMail).where(MemberMail.unsubscribe_token == token)).scalar_one_or_none()


def of_member(session: Session, member_id: int, limit: int = 50) -> Sequence[MemberMail]:
    query = select(MemberMail).where(MemberMail.member_id == member_id).order_by(MemberMail.id.desc()).limit(limit)
    return session.execute(query).scalars().all()
