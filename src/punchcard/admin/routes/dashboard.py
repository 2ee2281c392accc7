"""A program's dashboard, which is also where a program's address leads."""

from __future__ import annotations

from fastapi.responses import Response

from punchcard.admin import dashboard
from punchcard.admin.frame import Frame, redirect
from punchcard.admin.routes.common import DateFrom, DateTo, ProgramDep, Viewer, console_router
from punchcard.kit.http import NowDep, SessionDep

router = console_router()


@router.get("/p/{slug}")
def program_home(staff: Viewer, version: ProgramDep) -> Response:
    return redirect(f"/admin/p/{version.program.slug}/dashboard")


@router.get("/p/{slug}/dashboard")
def dashboard_page(
    session: SessionDep, staff: Viewer, version: ProgramDep, now: NowDep, first: DateFrom = "", last: DateTo = ""
) -> Response:
    return dashboard.page(Frame(session, staff, version, "dashboard"), first, last, now)
