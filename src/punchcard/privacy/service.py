"""Privacy use cases: everything stored about a member as one JSON document, and the member's erasure. Both are
recorded in the audit log: who asked (a staff account, or the way the request came), about whom, and for an erasure
why. Nothing here commits; the request, the command or the job does."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.kit.personal import Erasure, Subject
from punchcard.member import personal_data as member_data
from punchcard.member import service as members
from punchcard.member.service import Member
from punchcard.outbox import service as outbox
from punchcard.privacy.domain import EXPORT_FORMAT, EXPORT_VERSION, MemberErased, Requester
from punchcard.privacy.registry import PARTS
from punchcard.program.domain import ProgramVersion
from punchcard.staff import service as staff
from punchcard.staff.domain import Action


def export(
    session: Session, version: ProgramVersion, member: Member, requester: Requester, now: datetime
) -> dict[str, Any]:
    """Everything stored about ``member``: each feature's part (``registry.PARTS``), table by table, every row as it
    is stored but for secrets (token hashes, device keys, gift-card codes). The audit log records the export."""
    subject = Subject(version.program_id, member.id, member.external_id)
    data = {part.name: part.export(session, subject) for part in PARTS}
    _audit(session, Action.MEMBER_EXPORTED, member, requester, now)
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "program": version.program.slug,
        "member": member.external_id,
        "exported_at": now.isoformat(),
        "data": data,
    }


@dataclass(frozen=True)
class Erased:
    member: str
    """The pseudonym the member is known by from now on."""
    erased_now: bool
    """``False`` when the member had been erased already (nothing changed)."""


def erase(
    session: Session, program_id: int, external_id: str, *, reason: str, requester: Requester, now: datetime
) -> Erased:
    """Erase the member with ``external_id`` (their current id, their pseudonym, or the id they had before an earlier
    erasure): every feature's part removes or replaces their personal data (``registry.PARTS``), their row keeps the
    pseudonym and the status ``erased``, their ledger stays exactly as it was. The one entry point of erasure, for
    the API, the command line, the retention job and a shop's request to redact a customer; erasing again changes
    nothing. Publishes ``member.erased``; the audit log records who asked and why, under the pseudonym."""
    member = members.find(session, program_id, external_id, lock=True) or members.erased_as(
        session, program_id, external_id
    )
    if member is None:
        raise members.missing(session, program_id, external_id)
    if member.status == members.ERASED:
        return Erased(member.external_id, erased_now=False)
    values = tuple(value for value in (member.email, member.name, _iso(member)) if value)
    erasure = Erasure(
        Subject(program_id, member.id, member.external_id), member_data.pseudonym_for(session, member, now), values, now
    )
    for part in PARTS:
        if part.erase is not None:
            part.erase(session, erasure)
    event = MemberErased(program_id=program_id, member_id=member.id, occurred_at=now, source=requester.source)
    outbox.publish(session, [event], now)
    # The row now bears the pseudonym; a reason that names the member is kept without the name.
    _audit(session, Action.MEMBER_ERASED, member, requester, now, reason=str(erasure.scrub(reason)))
    return Erased(erasure.pseudonym, erased_now=True)


def _iso(member: Member) -> str | None:
    return member.birth_date.isoformat() if member.birth_date is not None else None


def _audit(
    session: Session, action: Action, member: Member, requester: Requester, now: datetime, *, reason: str = ""
) -> None:
    staff.record(
        session,
        action,
        now,
        staff_id=requester.staff_id,
        target=f"member {member.external_id}",
        program_id=member.program_id,
        member_id=member.id,
        reason=reason[:500],
        details={"source": requester.source.value},
    )
