"""The member's challenges, badges and streaks, the leaderboards, and the two things a member does there: join a
challenge that must be joined, and agree (or no longer agree) to be shown on leaderboards.

Only for a program with challenges, badges or streaks; for any other the page is the portal's 404. The figures are
the challenge service's, as the API gives them (``challenges_of``, ``badges_of``, ``streaks_of``, ``leaderboard``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from punchcard.challenge import service as challenges
from punchcard.challenge.errors import ChallengeClosed, ChallengeNotFound
from punchcard.kit.http import NowDep, SessionDep
from punchcard.member.domain import shown_name
from punchcard.member.service import Member
from punchcard.portal import engagement
from punchcard.portal.rendering import PageNotFound
from punchcard.portal.routes.common import (
    CsrfField,
    Visitor,
    VisitorDep,
    has_games,
    page,
    portal_router,
    require_csrf,
)

router = portal_router()

LEADERBOARD_PLACES = 10
"""Places shown on each leaderboard (the API's default page)."""


def _member(visitor: Visitor) -> Member:
    member = visitor.signed_in()
    if not has_games(visitor.program):
        raise PageNotFound
    return member


def _page(
    request: Request,
    visitor: Visitor,
    session: SessionDep,
    member: Member,
    now: datetime,
    *,
    status_code: int = 200,
    joined: str | None = None,
    shown_changed: bool | None = None,
    error: str | None = None,
) -> Response:
    version, program, ui = visitor.version, visitor.program, visitor.ui
    cards = [
        engagement.challenge_card(
            ui,
            program,
            view,
            challenges.leaderboard(session, version.program_id, view.challenge, view.period, LEADERBOARD_PLACES),
            now,
        )
        for view in challenges.challenges_of(session, member.id, program.challenges, program.zone, now)
    ]
    badges = [engagement.badge_card(ui, view) for view in challenges.badges_of(session, member.id, program.badges)]
    streaks = [
        engagement.streak_card(ui, program, streak, status)
        for streak, status in challenges.streaks_of(session, member.id, program.streaks, program.zone, now)
    ]
    return page(
        request,
        visitor,
        "challenges.html",
        "challenges",
        status_code,
        cards=cards,
        badges=badges,
        streaks=streaks,
        shown=challenges.is_shown_on_leaderboards(session, member.id),
        shown_as=shown_name(member.name),
        shown_changed=shown_changed,
        joined=program.challenge(joined) if joined else None,
        error=error,
    )


@router.get("/challenges")
def challenges_page(
    request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep, joined: str = "", shown: str = ""
) -> Response:
    member = _member(visitor)
    changed = {"1": True, "0": False}.get(shown)
    return _page(request, visitor, session, member, now, joined=joined or None, shown_changed=changed)


@router.post("/challenges/{code}/join")
def join_challenge(
    request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep, code: str, csrf: CsrfField = ""
) -> Response:
    """Join a challenge (again: nothing changes); an unknown one is 404, one that is over says so."""
    member = _member(visitor)
    require_csrf(visitor, csrf)
    program = visitor.program
    try:
        challenge = challenges.challenge_of(program.challenges, code)
        challenges.join(session, visitor.version.program_id, member, challenge, program.zone, now)
    except ChallengeNotFound as error:
        raise PageNotFound from error
    except ChallengeClosed:
        session.rollback()
        return _page(request, visitor, session, member, now, status_code=409, error="challenge.closed")
    session.commit()
    return RedirectResponse(visitor.url(f"/challenges?joined={code}#challenge-{code}"), status_code=303)


@router.post("/challenges/leaderboards")
def choose_leaderboards(
    visitor: VisitorDep,
    session: SessionDep,
    now: NowDep,
    shown: Annotated[str, Form(max_length=8)] = "",
    csrf: CsrfField = "",
) -> Response:
    """Be shown on the leaderboards (``shown=yes``: first name and initial) or not (anything else)."""
    member = _member(visitor)
    require_csrf(visitor, csrf)
    agreed = shown == "yes"
    challenges.show_on_leaderboards(session, visitor.version.program_id, member, agreed, now)
    session.commit()
    return RedirectResponse(visitor.url(f"/challenges?shown={int(agreed)}#leaderboards"), status_code=303)
