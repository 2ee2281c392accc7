"""A program's audit log: what staff did, filtered by who, what, which member and when."""

from __future__ import annotations

from fastapi.responses import Response

from punchcard.admin import audit
from punchcard.admin.audit import AuditQuery
from punchcard.admin.frame import Frame
from punchcard.admin.routes.common import DateFrom, DateTo, ProgramDep, Viewer, console_router
from punchcard.kit.http import SessionDep

router = console_router()


@router.get("/p/{slug}/audit")
def audit_page(
    session: SessionDep,
    staff: Viewer,
    version: ProgramDep,
    staff_id: str = "",
    action: str = "",
    member: str = "",
    first: DateFrom = "",
    last: DateTo = "",
    before: int | None = None,
) -> Response:
    query = AuditQuery(staff_id, action, member, first, last)
    return audit.page(Frame(session, staff, version, "audit"), query, before)
