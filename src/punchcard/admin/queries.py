"""Read-only queries only the console needs: finding members with their balances."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from punchcard.ledger import reports as ledger_reports
from punchcard.member import service as members
from punchcard.member.service import Member

SEARCH_LIMIT = 50


@dataclass(frozen=True)
class Found:
    member: Member
    available: int
    pending: int


def search_members(session: Session, program_id: int, text: str) -> list[Found]:
    """Members whose e-mail, external id or name contains ``text`` (any case), exact external id first; without text,
    the most recently enrolled. Balances come from one grouped query over the page's members."""
    found = members.search(session, program_id, text, SEARCH_LIMIT)
    balances = ledger_reports.points_of(session, [member.id for member in found])
    return [Found(member, *balances.get(member.id, (0, 0))) for member in found]
