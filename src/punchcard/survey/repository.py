"""Queries of survey invitations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from punchcard.kit.db import is_postgres
from punchcard.survey.domain import Status
from punchcard.survey.models import SurveyInvitation


def standing(session: Session, member_id: int, survey: str) -> tuple[bool, datetime | None]:
    """Whether the member has an invitation to ``survey`` waiting to be sent, and when they were last invited; one
    read, since the survey scheduler asks for both on every purchase."""
    waiting, last = session.execute(
        select(
            func.count().filter(SurveyInvitation.status == Status.SCHEDULED.value),
            func.max(SurveyInvitation.invited_at),
        ).where(SurveyInvitation.member_id == member_id, SurveyInvitation.survey == survey)
    ).one()
    return bool(waiting), last


def claim_due(session: Session, program_id: int, at: datetime, limit: int) -> Sequence[SurveyInvitation]:
    """Up to ``limit`` scheduled invitations due at ``at``, locked (``SKIP LOCKED``: two runs split them)."""
    query = (
        select(SurveyInvitation)
        .where(
            SurveyInvitation.status == Status.SCHEDULED.value,
            SurveyInvitation.due_at <= at,
            SurveyInvitation.program_id == program_id,
        )
        .order_by(SurveyInvitation.due_at, SurveyInvitation.id)
        .limit(limit)
    )
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    return session.execute(query).scalars().all()


def by_token(session: Session, token: str) -> SurveyInvitation | None:
    return session.execute(select(SurveyInvitation).where(SurveyInvitation.token == token)).scalar_one_or_none()


def record_answer(session: Session, invitation_id: int, score: int, comment: str, language: str, at: datetime) -> bool:
    """Write the answer unless one is there: whether this call wrote it. A concurrent second answer waits for the
    first one's row lock, then finds the invitation answered."""
    written = session.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.id == invitation_id, SurveyInvitation.status == Status.INVITED.value)
        .values(status=Status.ANSWERED.value, answered_at=at, score=score, comment=comment, language=language)
        .execution_options(synchronize_session=False)
    )
    return bool(written.rowcount)  # type: ignore[attr-defined]


def answers(
    session: Session, program_id: int, survey: str, since: datetime | None, until: datetime | None
) -> Sequence[tuple[datetime, int]]:
    """When each answer in ``[since, until)`` was given, and its score."""
    query = select(SurveyInvitation.answered_at, SurveyInvitation.score).where(
        SurveyInvitation.program_id == program_id,
        SurveyInvitation.survey == survey,
        SurveyInvitation.answered_at.is_not(None),
    )
    if since is not None:
        query = query.where(SurveyInvitation.answered_at >= since)
    if until is not None:
        query = query.where(SurveyInvitation.answered_at < until)
    return [(at, score) for at, score in session.execute(query) if at is not None and score is not None]


def comments(
    session: Session, program_id: int, survey: str, since: datetime, until: datetime, limit: int
) -> Sequence[SurveyInvitation]:
    """The latest answers in ``[since, until)`` that say something in words."""
    query = (
        select(SurveyInvitation)
        .where(
            SurveyInvitation.program_id == program_id,
            SurveyInvitation.survey == survey,
            SurveyInvitation.answered_at >= since,
            SurveyInvitation.answered_at < until,
            SurveyInvitation.comment != "",
        )
        .order_by(SurveyInvitation.answered_at.desc(), SurveyInvitation.id.desc())
        .limit(limit)
    )
    return session.execute(query).scalars().all()


def of_member(session: Session, member_id: int) -> Sequence[SurveyInvitation]:
    """The member's invitations that can be answered or were, newest first."""
    query = (
        select(SurveyInvitation)
        .where(SurveyInvitation.member_id == member_id, SurveyInvitation.token.is_not(None))
        .order_by(SurveyInvitation.id.desc())
    )
    return session.execute(query).scalars().all()


def invited_at(session: Session, program_id: int, at: datetime) -> Sequence[SurveyInvitation]:
    query = select(SurveyInvitation).where(
        SurveyInvitation.program_id == program_id,
        SurveyInvitation.invited_at == at,
        SurveyInvitation.status == Status.INVITED.value,
    )
    return session.execute(query.order_by(SurveyInvitation.id)).scalars().all()
