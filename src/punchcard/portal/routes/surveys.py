"""/portal/{slug}/surveys/{token}: the answer page of a survey invitation, reached from the invitation mail.

The link's secret is the authority: no sign-in. A score link (``?score=9``) opens the page with that score chosen
and the follow-up question beside it; the answer is recorded by the page's button (a ``POST``), never by the
``GET``, since mail scanners and link previews fetch every link of a mail and would answer for the member.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from punchcard.kit.errors import ValidationFailed
from punchcard.kit.http import NowDep, SessionDep
from punchcard.portal.rendering import PageNotFound
from punchcard.portal.routes.common import CsrfField, Visitor, VisitorDep, page, portal_router, require_csrf
from punchcard.survey import service as surveys
from punchcard.survey.service import Invitation, State

router = portal_router()


def _found(visitor: Visitor, session: SessionDep, token: str, now: NowDep) -> Invitation:
    found = surveys.invitation(session, visitor.program, visitor.version.program_id, token, now)
    if found is None:
        raise PageNotFound
    return found


def _page(
    request: Request,
    visitor: Visitor,
    found: Invitation,
    *,
    chosen: int | None = None,
    comment: str = "",
    done: bool = False,
    errors: tuple[str, ...] = (),
) -> Response:
    survey, ui = found.survey, visitor.ui
    status = 400 if errors else 410 if found.state is State.CLOSED else 200
    response = page(
        request,
        visitor,
        "survey.html",
        "survey",
        status,
        invitation=found,
        question=surveys.question(survey, visitor.program, ui),
        follow_up=surveys.follow_up(survey, ui),
        scale=survey.kind.scale,
        ends=surveys.scale_ends(survey.kind, ui),
        chosen=chosen,
        comment=comment,
        done=done,
        errors=errors,
    )
    response.headers["Cache-Control"] = "no-store"  # the page holds the link's secret and the member's answer
    return response


@router.get("/surveys/{token}")
def survey_page(
    request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep, token: str, score: str = "", done: str = ""
) -> Response:
    found = _found(visitor, session, token, now)
    chosen = int(score) if score.isdigit() and int(score) in found.survey.kind.scale else None
    return _page(request, visitor, found, chosen=chosen, done=done == "1")


@router.post("/surveys/{token}")
def answer(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    now: NowDep,
    token: str,
    score: Annotated[str, Form()] = "",
    comment: Annotated[str, Form()] = "",
    csrf: CsrfField = "",
) -> Response:
    """Record the answer once; a second send (a double click, another tab) shows the answer already given."""
    require_csrf(visitor, csrf)
    found = _found(visitor, session, token, now)
    chosen = int(score) if score.strip().isdigit() else -1
    try:
        surveys.answer(session, visitor.version, found, chosen, comment, visitor.ui.language, now)
    except ValidationFailed as error:
        fields = tuple(str(detail["field"]) for detail in error.details)
        return _page(request, visitor, found, chosen=chosen if chosen >= 0 else None, comment=comment, errors=fields)
    session.commit()
    return RedirectResponse(visitor.url(f"/surveys/{token}?done=1"), status_code=303)
