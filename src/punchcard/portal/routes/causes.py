"""Points for a cause: each open cause with what everyone gave to it and the progress to its goal, what the member
gave; giving points (a confirmation step saying what they are worth and what the shop adds, then the donation, once
per form); and the member's standing gift (a share of every earning, or the balance rounded down), set or stopped.

Only for a program with causes; for any other the page is the portal's 404. A refused donation or standing gift is a
message on the page, never an error of the API's.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from punchcard.cause import service as causes
from punchcard.cause.domain import Cause, GiftKind, StandingGift
from punchcard.kit.db import committed_once
from punchcard.kit.errors import PunchcardError
from punchcard.kit.http import NowDep, SessionDep
from punchcard.kit.idempotency import request_hash
from punchcard.member.service import Member
from punchcard.portal import causes as words
from punchcard.portal import views
from punchcard.portal.domain import valid_idempotency_key
from punchcard.portal.rendering import FormExpired, PageNotFound
from punchcard.portal.routes.common import (
    CsrfField,
    Visitor,
    VisitorDep,
    has_causes,
    page,
    portal_router,
    require_csrf,
)
from punchcard.portal.routes.wallet import whole_points
from punchcard.portal.service import PORTAL_KEY_PREFIX

router = portal_router()

STANDING_SAID = {"set": "causes.standing.saved", "stopped": "causes.standing.stopped"}
"""What the page says after the standing gift was set or stopped (``?standing=``)."""


def require_causes(visitor: Visitor) -> None:
    """The causes pages are a program's with causes; any other answers the portal's 404."""
    if not has_causes(visitor.program):
        raise PageNotFound


def open_causes(visitor: Visitor, now: datetime) -> list[Cause]:
    terms = visitor.version.cause_terms
    return [cause for cause in terms.causes if cause.is_open(now, terms.zone)]


def causes_page(
    request: Request,
    visitor: Visitor,
    session: Session,
    member: Member,
    now: datetime,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """The causes page, with a donation's or a standing gift's outcome in ``context`` (``given``; ``give_error`` about
    the cause ``error_cause`` and the points ``asked``; ``standing_said`` or ``standing_error``)."""
    terms, ui = visitor.version.cause_terms, visitor.ui
    totals = causes.totals(session, terms, None, None)
    mine = causes.member_given(session, member.id)
    shown = open_causes(visitor, now)
    names = {cause.code: ui.text(cause.name) for cause in terms.causes}
    defaults: dict[str, Any] = {
        "given": False,
        "give_error": None,
        "error_cause": None,
        "asked": "",
        "standing_said": None,
        "standing_error": None,
    }
    return page(
        request,
        visitor,
        "causes.html",
        "causes",
        status_code,
        cards=[
            words.cause_card(ui, cause, totals[cause.code], mine.get(cause.code), terms.currency) for cause in shown
        ],
        available=views.points(session, visitor.version, member, now).available,
        standing=words.standing(ui, causes.standing(session, member.id), names),
        **{**defaults, **context},
    )


@router.get("/causes")
def causes_list(
    request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep, given: bool = False, standing: str = ""
) -> Response:
    """The open causes, what was given to them, the forms to give points and the standing gift."""
    member = visitor.signed_in()
    require_causes(visitor)
    said = visitor.ui.t(STANDING_SAID[standing]) if standing in STANDING_SAID else None
    return causes_page(request, visitor, session, member, now, given=given, standing_said=said)


# --- giving points -------------------------------------------------------------------------------------------------


def _refused(
    request: Request,
    visitor: Visitor,
    session: Session,
    member: Member,
    now: datetime,
    status_code: int,
    code: str,
    cause: str,
    typed: str,
) -> Response:
    """The causes page saying why giving the points ``typed`` to ``cause`` was refused (the error's ``code``)."""
    available = views.points(session, visitor.version, member, now).available
    message = words.refusal(visitor.ui, code, available)
    return causes_page(
        request, visitor, session, member, now, status_code, give_error=message, error_cause=cause, asked=typed[:12]
    )


@router.get("/causes/{code}/give")
def confirm_gift(
    request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep, code: str, points: str = ""
) -> Response:
    """The confirmation step: the points, what they are worth to the cause and what the shop adds, what is left
    after; the form carries a fresh key. Without points asked (a language switched here), the causes page."""
    member = visitor.signed_in()
    require_causes(visitor)
    if not points:
        return RedirectResponse(visitor.url("/causes"), status_code=303)
    terms = visitor.version.cause_terms
    cause = next((cause for cause in terms.causes if cause.code == code), None)
    if cause is None:
        return _refused(request, visitor, session, member, now, 404, "cause_not_found", code, points)
    if not cause.is_open(now, terms.zone):
        return _refused(request, visitor, session, member, now, 422, "cause_closed", code, points)
    asked = whole_points(points)
    if asked is None:
        return _refused(request, visitor, session, member, now, 400, "invalid_points", code, points)
    available = views.points(session, visitor.version, member, now).available
    if asked > available:
        return _refused(request, visitor, session, member, now, 422, "insufficient_points", code, points)
    value = cause.worth(asked, terms.currency)
    matched = causes.matching_now(session, terms, cause, value, now)
    return page(
        request,
        visitor,
        "causes_give.html",
        "causes",
        gift=words.question(visitor.ui, cause, asked, value, matched, available, terms.currency),
        key=secrets.token_urlsafe(24),
    )


@router.post("/causes/{code}/give")
def give(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    now: NowDep,
    code: str,
    points: Annotated[str, Form(max_length=64)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
    csrf: CsrfField = "",
) -> Response:
    """Give once per form: a double submit (same ``key``) gives nothing more and lands on the same page."""
    member = visitor.signed_in()
    require_causes(visitor)
    require_csrf(visitor, csrf)
    if not valid_idempotency_key(key):
        raise FormExpired
    asked = whole_points(points)
    if asked is None:
        return _refused(request, visitor, session, member, now, 400, "invalid_points", code, points)
    terms = visitor.version.cause_terms
    digest = request_hash({"cause": code, "points": asked})
    try:
        committed_once(
            session,
            lambda: causes.donate(
                session,
                terms,
                member,
                code,
                asked,
                key=PORTAL_KEY_PREFIX + key,
                digest=digest,
                source="portal",
                now=now,
            ),
        )
    except PunchcardError as error:
        session.rollback()
        return _refused(request, visitor, session, member, now, error.status, error.code, code, points)
    return RedirectResponse(visitor.url("/causes?given=1"), status_code=303)


# --- the standing gift ---------------------------------------------------------------------------------------------


def _standing_refused(
    request: Request, visitor: Visitor, session: Session, member: Member, now: datetime, status_code: int, message: str
) -> Response:
    return causes_page(request, visitor, session, member, now, status_code, standing_error=message)


def _asked_gift(cause: str, how: str, percent: str) -> StandingGift | str:
    """The standing gift the form asks for, or the message (its key) saying what is wrong with the form."""
    if how == "percent":
        text = percent.strip()
        share = int(text) if text.isascii() and text.isdigit() and len(text) <= 3 else 0
        if not 1 <= share <= 100:
            return "causes.standing.invalid_percent"
        return StandingGift(cause, GiftKind.PERCENT, share)
    multiple = how.removeprefix("round-")
    if how.startswith("round-") and multiple.isascii() and multiple.isdigit() and 1 <= int(multiple) <= 10_000:
        return StandingGift(cause, GiftKind.ROUND_DOWN, int(multiple))
    return "causes.standing.choose"


@router.post("/causes/standing-gift")
def set_standing_gift(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    now: NowDep,
    cause: Annotated[str, Form(max_length=63)] = "",
    how: Annotated[str, Form(max_length=16)] = "",
    percent: Annotated[str, Form(max_length=8)] = "",
    csrf: CsrfField = "",
) -> Response:
    """Give to ``cause`` as points are earned: ``how`` is ``percent`` (a ``percent`` of every earning) or
    ``round-100`` (the balance kept at a multiple of 100, the rest given); replaces the gift set before."""
    member = visitor.signed_in()
    require_causes(visitor)
    require_csrf(visitor, csrf)
    asked = _asked_gift(cause, how, percent)
    if isinstance(asked, str):
        return _standing_refused(request, visitor, session, member, now, 400, visitor.ui.t(asked))
    try:
        causes.set_standing(session, visitor.version.cause_terms, member, asked, now)
        session.commit()
    except PunchcardError as error:
        session.rollback()
        message = words.refusal(visitor.ui, error.code, 0)
        return _standing_refused(request, visitor, session, member, now, error.status, message)
    return RedirectResponse(visitor.url("/causes?standing=set#standing"), status_code=303)


@router.post("/causes/standing-gift/stop")
def stop_standing_gift(visitor: VisitorDep, session: SessionDep, now: NowDep, csrf: CsrfField = "") -> Response:
    member = visitor.signed_in()
    require_causes(visitor)
    require_csrf(visitor, csrf)
    causes.set_standing(session, visitor.version.cause_terms, member, None, now)
    session.commit()
    return RedirectResponse(visitor.url("/causes?standing=stopped#standing"), status_code=303)


@router.get("/causes/standing-gift")
def standing_gift_form(visitor: VisitorDep) -> Response:
    """A refused standing gift is a posted page; asked for again (a language switched on it), the causes page."""
    visitor.signed_in()
    return RedirectResponse(visitor.url("/causes"), status_code=303)
