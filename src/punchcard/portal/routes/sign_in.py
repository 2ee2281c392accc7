"""Signing in and out: the sign-in form that e-mails a one-time link, the link itself, and the shop's signed
"My rewards" link."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from email_validator import EmailNotValidError, validate_email
from fastapi import BackgroundTasks, Form, Request
from fastapi.responses import RedirectResponse, Response

from punchcard.kit.http import NowDep, SessionDep
from punchcard.member.service import Member
from punchcard.portal import service
from punchcard.portal.domain import SESSION_LIFETIME, csrf_valid
from punchcard.portal.errors import ShopLinkInvalid, SignInLinkInvalid
from punchcard.portal.rendering import set_cookie
from punchcard.portal.routes.common import (
    SESSION_COOKIE,
    CsrfField,
    SettingsDep,
    Visitor,
    VisitorDep,
    page,
    portal_router,
    require_csrf,
)

router = portal_router()


@router.get("/sign-in")
def sign_in_page(request: Request, visitor: VisitorDep) -> Response:
    if visitor.member is not None:
        return RedirectResponse(visitor.url(), status_code=303)
    return page(request, visitor, "sign_in.html", "sign-in", email="", error=None)


@router.post("/sign-in")
def send_sign_in_link(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=320)] = "",
    csrf: CsrfField = "",
) -> Response:
    """Send a one-time link if the address is a member's; the answer is the same either way."""
    if not csrf_valid(visitor.browser_secret, csrf):
        return page(request, visitor, "sign_in.html", "sign-in", 400, email=email, error="sign_in.form_expired")
    try:
        address = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        return page(request, visitor, "sign_in.html", "sign-in", 400, email=email, error="sign_in.email_invalid")
    program_id = visitor.version.program_id
    service.request_link(session, program_id, address, now, language=visitor.ui.language, source="portal")
    session.commit()  # the mail goes out from the outbox (``portal.consumers``)
    return page(request, visitor, "sign_in_sent.html", "sign-in", email=address)


def _start_session(request: Request, visitor: Visitor, session: SessionDep, member: Member, now: datetime) -> Response:
    if visitor.session_token is not None:
        service.end_session(session, visitor.version.program_id, visitor.session_token, now)
    token = service.start_session(session, member, now)
    session.commit()
    max_age = int(SESSION_LIFETIME.total_seconds())
    set_cookie(request, SESSION_COOKIE, token, path=visitor.url(), max_age=max_age, secure=visitor.secure)
    return RedirectResponse(visitor.url(), status_code=303)


@router.get("/auth/link")
def open_sign_in_link(
    request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep, token: str = ""
) -> Response:
    try:
        member = service.use_link(session, visitor.version.program_id, token, now)
    except SignInLinkInvalid:
        return page(request, visitor, "link_invalid.html", "sign-in", 400, body="link.invalid.body")
    return _start_session(request, visitor, session, member, now)


@router.get("/auth/shop")
def open_shop_link(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    now: NowDep,
    member: str = "",
    expires: str = "",
    sig: str = "",
) -> Response:
    """The shop's "My rewards" link: ``member`` and ``expires`` signed with the program's portal secret."""
    try:
        if not expires.isdigit() or len(expires) > 12:
            raise ShopLinkInvalid("expires must be a Unix time")
        found = service.use_shop_link(session, visitor.version, member, int(expires), sig, now)
    except ShopLinkInvalid:
        session.commit()  # keeps a portal secret created by this first use
        return page(request, visitor, "link_invalid.html", "sign-in", 400, body="link.shop_invalid.body")
    return _start_session(request, visitor, session, found, now)


@router.post("/sign-out")
def sign_out(request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep, csrf: CsrfField = "") -> Response:
    if visitor.session_token is not None:
        require_csrf(visitor, csrf)
        service.end_session(session, visitor.version.program_id, visitor.session_token, now)
        session.commit()
    set_cookie(request, SESSION_COOKIE, "", path=visitor.url(), max_age=0, secure=visitor.secure)
    return RedirectResponse(visitor.url("/sign-in"), status_code=303)
