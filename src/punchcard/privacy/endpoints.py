"""``GET /api/v1/members/{external_id}/export`` and ``POST /api/v1/members/{external_id}/erase`` (admin keys)."""

from typing import Any

from fastapi import APIRouter

from punchcard.kit.http import NowDep, SessionDep
from punchcard.member import service as members
from punchcard.privacy import service
from punchcard.privacy.domain import Requester, Source
from punchcard.privacy.schemas import ErasureIn
from punchcard.program.http import CallerDep, VersionDep

router = APIRouter(prefix="/api/v1/members", tags=["privacy"])


@router.get("/{external_id}/export")
def export_member(
    external_id: str, session: SessionDep, caller: CallerDep, version: VersionDep, now: NowDep
) -> dict[str, Any]:
    """Everything stored about the member, as one JSON document (docs/privacy.md); the audit log records it."""
    caller.require_admin()
    member = members.get(session, version.program_id, external_id)
    document = service.export(session, version, member, Requester(Source.API), now)
    session.commit()
    return document


@router.post("/{external_id}/erase")
def erase_member(
    external_id: str, body: ErasureIn, session: SessionDep, caller: CallerDep, version: VersionDep, now: NowDep
) -> dict[str, Any]:
    """Erase the member's personal data; their ledger stays. Erasing again answers the same and changes nothing."""
    caller.require_admin()
    erased = service.erase(
        session, version.program_id, external_id, reason=body.reason, requester=Requester(Source.API), now=now
    )
    session.commit()
    return {"member": erased.member, "status": members.ERASED, "erased_now": erased.erased_now}
