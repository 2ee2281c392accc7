"""The engagement overview: the program's challenges, streaks, badges and gifts, and how members stand in them."""

from __future__ import annotations

from fastapi.responses import Response

from punchcard.admin import engagement
from punchcard.admin.frame import Frame
from punchcard.admin.routes.common import ProgramDep, Viewer, console_router
from punchcard.kit.http import NowDep, SessionDep

router = console_router()


@router.get("/p/{slug}/challenges")
def engagement_page(session: SessionDep, staff: Viewer, version: ProgramDep, now: NowDep) -> Response:
    return engagement.page(Frame(session, staff, version, "engagement"), now)
