"""Read-only queries only the console needs: finding members, their recent events, the programs to switch between."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session

from punchcard.event.models import Event
from punchcard.ledger.domain import Account
from punchcard.ledger.models import LedgerEntry
from punchcard.member.models import Member
from punchcard.program.models import ProgramRow, ProgramVersionRow

SEARCH_LIMIT = 50


@dataclass(frozen=True)
class Found:
    member: Member
    available: int
    pending: int


def search_members(session: Session, program_id: int, text: str) -> list[Found]:
    """Members whose e-mail, external id or name contains ``text`` (any case), exact external id first; without text,
    the most recently enrolled. Balances come from one grouped query over the page's members."""
    query = select(Member).where(Member.program_id == program_id)
    text = text.strip()
    if text:
        query = query.where(
            or_(
                Member.external_id.icontains(text, autoescape=True),
                Member.email.icontains(text, autoescape=True),
                Member.name.icontains(text, autoescape=True),
            )
        ).order_by(case((Member.external_id == text, 0), else_=1), Member.name, Member.id)
    else:
        query = query.order_by(Member.enrolled_at.desc(), Member.id.desc())
    found = session.execute(query.limit(SEARCH_LIMIT)).scalars().all()
    entry = LedgerEntry
    balances = {
        row.member_id: (int(row.available), int(row.pending))
        for row in session.execute(
            select(
                entry.member_id,
                func.sum(case((entry.account == Account.POINTS.value, entry.amount), else_=0)).label("available"),
                func.sum(case((entry.account == Account.PENDING_POINTS.value, entry.amount), else_=0)).label("pending"),
            )
            .where(entry.member_id.in_([member.id for member in found]))
            .group_by(entry.member_id)
        )
    }
    return [Found(member, *balances.get(member.id, (0, 0))) for member in found]


def recent_events(session: Session, member_id: int, limit: int = 20) -> Sequence[Event]:
    query = select(Event).where(Event.member_id == member_id).order_by(Event.id.desc()).limit(limit)
    return session.execute(query).scalars().all()


def members_by_id(session: Session, member_ids: Sequence[int]) -> dict[int, Member]:
    if not member_ids:
        return {}
    found = session.execute(select(Member).where(Member.id.in_(set(member_ids)))).scalars()
    return {member.id: member for member in found}


def programs(session: Session) -> Sequence[ProgramRow]:
    return session.execute(select(ProgramRow).order_by(ProgramRow.name, ProgramRow.id)).scalars().all()


def versions(session: Session, program_id: int) -> Sequence[ProgramVersionRow]:
    """Every version of the program, newest first."""
    query = select(ProgramVersionRow).where(ProgramVersionRow.program_id == program_id)
    return session.execute(query.order_by(ProgramVersionRow.version.desc())).scalars().all()


def version(session: Session, program_id: int, number: int) -> ProgramVersionRow | None:
    query = select(ProgramVersionRow).where(
        ProgramVersionRow.program_id == program_id, ProgramVersionRow.version == number
    )
    return session.execute(query).scalar_one_or_none()
