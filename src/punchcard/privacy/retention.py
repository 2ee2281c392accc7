"""The jobs' step that erases members inactive for longer than their program keeps data (its file's ``privacy:
{erase_inactive_after_years: N}``). Inactive: enrolled before then, and since then no event of theirs, nothing they
spent and no portal sign-in (each feature says what counts, ``Part.active``); what the program did to them meanwhile
(expiring their points, a birthday gift, a reminder) is not their activity."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.member import service as members
from punchcard.privacy import service
from punchcard.privacy.domain import Requester, Source, inactive_since
from punchcard.privacy.registry import PARTS
from punchcard.program.domain import ProgramVersion

ACTIVITY = tuple(part.active for part in PARTS if part.active is not None)


def erase_inactive(session: Session, *, version: ProgramVersion, at: datetime, now: datetime, limit: int) -> int:
    """Erase up to ``limit`` of the program's members inactive at ``at``; returns how many (0: none left, or the
    program keeps data as long as it likes). Members a request holds are skipped and found by the next run."""
    years = version.program.retention.erase_inactive_after_years
    if years is None:
        return 0
    reason = f"inactive for {years} years"
    found = members.claim_inactive(session, version.program_id, inactive_since(at, years), ACTIVITY, limit)
    for member in found:
        service.erase(
            session,
            version.program_id,
            member.external_id,
            reason=reason,
            requester=Requester(Source.RETENTION),
            now=now,
        )
    return len(found)
