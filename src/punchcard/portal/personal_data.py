"""What the portal keeps about a member: their sign-in links and sessions (as hashes of their tokens, which the
export leaves out). Erasure deletes both, so whoever was signed in as the member is signed out at once. A session
begun is the member's activity (the retention of inactive members)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, select
from sqlalchemy.orm import Session

from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows
from punchcard.portal.models import MemberSession, SignInToken


def _export(session: Session, subject: Subject) -> Rows:
    links = select(SignInToken).where(SignInToken.member_id == subject.member_id).order_by(SignInToken.id)
    sessions = select(MemberSession).where(MemberSession.member_id == subject.member_id).order_by(MemberSession.id)
    return {
        "portal_sign_in_tokens": as_rows(session.execute(links).scalars(), omit={"token_hash"}),
        "portal_sessions": as_rows(session.execute(sessions).scalars(), omit={"token_hash"}),
    }


def _erase(session: Session, erasure: Erasure) -> None:
    member_id = erasure.subject.member_id
    session.execute(delete(SignInToken).where(SignInToken.member_id == member_id))
    session.execute(delete(MemberSession).where(MemberSession.member_id == member_id))


def _active(member_id: Any, since: datetime) -> ColumnElement[bool]:
    return exists().where(MemberSession.member_id == member_id, MemberSession.created_at >= since)


PART = Part("portal", ("portal_sign_in_tokens", "portal_sessions"), _export, _erase, _active)
