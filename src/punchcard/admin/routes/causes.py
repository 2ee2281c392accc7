"""The causes page (each cause's gifts in a month and in all, its goal, its matching budget) and each cause's
settlement as CSV. Read-only figures and reports: any signed-in role may see them, as the other figures' pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from fastapi.responses import Response

from punchcard.admin import causes
from punchcard.admin.frame import Frame
from punchcard.admin.routes.common import ProgramDep, Viewer, console_router
from punchcard.kit.http import NowDep, SessionDep

router = console_router()

MonthQuery = Annotated[str, Query(max_length=40)]


@router.get("/p/{slug}/causes")
def causes_page(
    session: SessionDep, staff: Viewer, version: ProgramDep, now: NowDep, month: MonthQuery = ""
) -> Response:
    """``month``: ``YYYY-MM``, this month (in the program's zone) unless given."""
    return causes.page(Frame(session, staff, version, "causes"), now, month)


@router.get("/p/{slug}/causes/{code}/settlement.csv")
def settlement_csv(
    session: SessionDep, staff: Viewer, version: ProgramDep, code: str, month: MonthQuery = ""
) -> Response:
    """The cause's donations in ``month`` (``YYYY-MM``), or of all time without it, as the API's settlement CSV."""
    return causes.settlement_download(Frame(session, staff, version, "causes"), code, month)
