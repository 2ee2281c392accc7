"""Portal queries: secrets, sign-in tokens and sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from punchcard.portal.models import MemberSession, PortalSecret, SignInToken


def secret(session: Session, program_id: int) -> str | None:
    return session.execute(
        select(PortalSecret.secret).where(PortalSecret.program_id == program_id)
    ).scalar_one_or_none()


def links_sent_since(session: Session, member_id: int, since: datetime) -> int:
    return int(
        session.execute(
            select(func.count()).where(SignInToken.member_id == member_id, SignInToken.created_at > since)
        ).scalar_one()
    )


def use_token(session: Session, program_id: int, token_hash: str, now: datetime) -> int | None:
    """Mark an unused, unexpired token used and return its member id, in one conditional UPDATE: of two requests with
    the same link, exactly one gets the member."""
    used = session.execute(
        update(SignInToken)
        .where(
            SignInToken.program_id == program_id,
            SignInToken.token_hash == token_hash,
            SignInToken.used_at.is_(None),
            SignInToken.expires_at > now,
        )
        .values(used_at=now)
        .returning(SignInToken.member_id)
    ).scalar_one_or_none()
    return None if used is None else int(used)


def live_session(session: Session, program_id: int, token_hash: str, now: datetime) -> MemberSession | None:
    return session.execute(
        select(MemberSession).where(
            MemberSession.program_id == program_id,
            MemberSession.token_hash == token_hash,
            MemberSession.revoked_at.is_(None),
            MemberSession.expires_at > now,
        )
    ).scalar_one_or_none()


def arm_token(session: Session, request_id: int, token_hash: str, expires_at: datetime) -> int | None:
    """Set the fingerprint and expiry of an unused sign-in request; its member id, or ``None`` if there is none."""
    armed = session.execute(
        update(SignInToken)
        .where(SignInToken.id == request_id, SignInToken.used_at.is_(None))
        .values(token_hash=token_hash, expires_at=expires_at)
        .returning(SignInToken.member_id)
    ).scalar_one_or_none()
    return None if armed is None else int(armed)
