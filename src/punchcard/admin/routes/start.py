"""Where the console starts: the first program's dashboard (or a page saying there is no program yet), and the
program switcher."""

from __future__ import annotations

from fastapi.responses import Response

from punchcard.admin import render
from punchcard.admin.frame import Frame, redirect
from punchcard.admin.routes.common import Viewer, console_router
from punchcard.kit.http import SessionDep
from punchcard.program import service as programs

router = console_router()


@router.get("")
def start(session: SessionDep, staff: Viewer) -> Response:
    found = programs.programs(session)
    if not found:
        return Frame(session, staff).page("no_programs.html")
    return redirect(f"/admin/p/{found[0].slug}/dashboard")


@router.get("/switch")
def switch_program(staff: Viewer, program: str = "") -> Response:
    return redirect(f"/admin/p/{render.path_part(program)}/dashboard")
