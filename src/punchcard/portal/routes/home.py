"""The member's home page (points, tier, rewards they can afford now, a paid membership's summary) and their points
history."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from punchcard.kit.calendar import local_date
from punchcard.kit.http import NowDep, SessionDep
from punchcard.offer import http as offers
from punchcard.portal import views
from punchcard.portal.routes.common import VisitorDep, has_plans, page, portal_router
from punchcard.portal.routes.membership import standing
from punchcard.survey import service as surveys

router = portal_router()


@router.get("")
def home(request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep) -> Response:
    member = visitor.signed_in()
    version = visitor.version
    locks = offers.locks(session, version, member, now)
    affordable = [item for item in views.standings(session, version, member, now, locks) if item.redeemable]
    return page(
        request,
        visitor,
        "home.html",
        "home",
        points=views.points(session, version, member, now),
        tier=views.tier_card(session, version, member, now),
        affordable=affordable,
        surveys=surveys.open_for(session, version.program, member.id, now),
        membership=standing(session, visitor, member.id, now) if has_plans(version.program) else None,
    )


@router.get("/history")
def history(request: Request, visitor: VisitorDep, session: SessionDep, before: int | None = None) -> Response:
    member = visitor.signed_in()
    movements, cursor = views.history(session, visitor.version, member, before, visitor.ui.language)
    zone = visitor.program.zone
    rows = [(local_date(movement.occurred_at, zone), movement) for movement in movements]
    return page(request, visitor, "history.html", "history", rows=rows, cursor=cursor)
