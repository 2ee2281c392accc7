"""Finding staff accounts and sessions, and reading the audit log with filters (newest first, keyset pages)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session

from punchcard.staff.domain import Role
from punchcard.staff.models import AuditEntry, StaffAccount, StaffSession


def by_email(session: Session, email: str, *, lock: bool = False) -> StaffAccount | None:
    query = select(StaffAccount).where(StaffAccount.email == email)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


def by_id(session: Session, staff_id: int) -> StaffAccount | None:
    return session.get(StaffAccount, staff_id)


def everyone(session: Session) -> Sequence[StaffAccount]:
    return session.execute(select(StaffAccount).order_by(StaffAccount.email)).scalars().all()


def accounts_after(session: Session, after: str, limit: int) -> Sequence[StaffAccount]:
    """Up to ``limit`` accounts by e-mail, after the e-mail ``after`` (``""``: from the first)."""
    query = select(StaffAccount).where(StaffAccount.email > after).order_by(StaffAccount.email).limit(limit)
    return session.execute(query).scalars().all()


def enabled_owners(session: Session) -> int:
    return int(
        session.execute(
            select(func.count()).where(StaffAccount.role == Role.OWNER.value, StaffAccount.disabled_at.is_(None))
        ).scalar_one()
    )


def live_session(session: Session, token_hash: str, now: datetime) -> tuple[StaffSession, StaffAccount] | None:
    row = session.execute(
        select(StaffSession, StaffAccount)
        .join(StaffAccount, StaffAccount.id == StaffSession.staff_id)
        .where(
            StaffSession.token_hash == token_hash,
            StaffSession.expires_at > now,
            StaffAccount.disabled_at.is_(None),
        )
    ).one_or_none()
    return None if row is None else (row[0], row[1])


def end_sessions(session: Session, staff_id: int, *, keep: str | None = None) -> None:
    """Delete the staff member's sessions, except the one whose token hash is ``keep``."""
    query = delete(StaffSession).where(StaffSession.staff_id == staff_id)
    if keep is not None:
        query = query.where(StaffSession.token_hash != keep)
    session.execute(query)


def end_session(session: Session, token_hash: str) -> None:
    session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash))


@dataclass(frozen=True)
class AuditFilter:
    """Entries about ``program_id`` (and installation-wide ones), narrowed by any of the other fields."""

    program_id: int | None = None
    staff_id: int | None = None
    action: str | None = None
    member_id: int | None = None
    since: datetime | None = None
    until: datetime | None = None
    staff_only: bool = False
    """Only what people did, without the domain events the activity consumer records."""


def audit_entries(session: Session, where: AuditFilter, *, before_id: int | None, limit: int) -> Sequence[AuditEntry]:
    query = select(AuditEntry)
    if where.program_id is not None:
        query = query.where(or_(AuditEntry.program_id == where.program_id, AuditEntry.program_id.is_(None)))
    if where.staff_id is not None:
        query = query.where(AuditEntry.staff_id == where.staff_id)
    if where.action is not None:
        query = query.where(AuditEntry.action == where.action)
    if where.member_id is not None:
        query = query.where(AuditEntry.member_id == where.member_id)
    if where.staff_only:
        query = query.where(AuditEntry.outbox_event_id.is_(None))
    if where.since is not None:
        query = query.where(AuditEntry.at >= where.since)
    if where.until is not None:
        query = query.where(AuditEntry.at < where.until)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    return session.execute(query.order_by(AuditEntry.id.desc()).limit(limit)).scalars().all()
