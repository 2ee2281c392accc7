"""The memberships page: the program's paid plans, members by plan and status, recurring revenue, churn and trial
conversion."""

from __future__ import annotations

from fastapi.responses import Response

from punchcard.admin import memberships
from punchcard.admin.frame import Frame
from punchcard.admin.routes.common import ProgramDep, Viewer, console_router
from punchcard.kit.http import NowDep, SessionDep

router = console_router()


@router.get("/p/{slug}/memberships")
def memberships_page(session: SessionDep, staff: Viewer, version: ProgramDep, now: NowDep) -> Response:
    return memberships.page(Frame(session, staff, version, "memberships"), now)
