"""The coalition page (the coalition the program is in, and a month's settlement between its brands) and that
settlement as CSV. Read-only figures and reports: any signed-in role may see them, as the causes page's."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from punchcard.admin import coalition
from punchcard.admin.frame import Frame
from punchcard.admin.routes.common import ProgramDep, Viewer, console_router
from punchcard.kit.http import NowDep, SessionDep

router = console_router()

MonthQuery = Annotated[str, Query(max_length=40)]


@router.get("/p/{slug}/coalition")
def coalition_page(
    session: SessionDep, staff: Viewer, version: ProgramDep, now: NowDep, month: MonthQuery = ""
) -> Response:
    """``month``: ``YYYY-MM``, this month (in the program's zone) unless given."""
    return coalition.page(Frame(session, staff, version, "coalition"), now, month)


@router.get("/p/{slug}/coalition/settlement.csv")
def settlement_csv(
    session: SessionDep, staff: Viewer, version: ProgramDep, now: NowDep, month: MonthQuery = ""
) -> Response:
    """The settlement of ``month`` (``YYYY-MM``; this month unless given) as the page shows it to this program."""
    return coalition.settlement_download(Frame(session, staff, version, "coalition"), now, month)
