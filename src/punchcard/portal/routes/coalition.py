"""Points across a coalition's brands: the brands and their rates, the member's linked accounts and the units they
make; linking (the member's consent; their portal sign-in proved the e-mail address the accounts are found by) and
unlinking (a confirmation step first); moving points to a partner brand (a confirmation step saying what leaves and
what arrives, then the movement, once per form); the member's recent movements.

Only for a program in a coalition; for any other the page is the portal's 404. A refused movement is a message on
the page, never an error of the API's.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from punchcard.coalition import service as coalitions
from punchcard.coalition.domain import Coalition, CoalitionRefused, sending
from punchcard.coalition.errors import EmailMissing, as_error
from punchcard.kit.db import committed_once
from punchcard.kit.errors import PunchcardError
from punchcard.kit.http import NowDep, SessionDep
from punchcard.kit.idempotency import request_hash
from punchcard.member.service import Member
from punchcard.portal import coalition as words
from punchcard.portal.domain import valid_idempotency_key
from punchcard.portal.rendering import FormExpired, PageNotFound
from punchcard.portal.routes.common import CsrfField, Visitor, VisitorDep, page, portal_router, require_csrf
from punchcard.portal.routes.wallet import whole_points
from punchcard.portal.service import PORTAL_KEY_PREFIX
from punchcard.program import service as programs

router = portal_router()

HISTORY = 10
"""How many of the member's latest movements the page shows."""
DONE = {"linked": "coalition.linked", "moved": "coalition.moved", "unlinked": "coalition.unlinked"}
"""What the page says after a link, a movement or an unlink (``?done=``)."""


def require_coalition(visitor: Visitor) -> Coalition:
    """The coalition pages are a program's in a coalition; any other answers the portal's 404."""
    if visitor.coalition is None:
        raise PageNotFound
    return visitor.coalition


def brand_names(session: Session, visitor: Visitor, found: Coalition) -> dict[int, str]:
    """Each brand's name in the member's language (the coalition knows only its first language's), by program id."""
    return {
        brand.program_id: visitor.ui.text(programs.current(session, brand.program_id).program.name)
        for brand in found.brands
    }


def coalition_page(
    request: Request,
    visitor: Visitor,
    session: Session,
    member: Member,
    found: Coalition,
    status_code: int = 200,
    **context: Any,
) -> Response:
    """The coalition page, with an outcome in ``context`` (``done``; ``move_error`` about the points ``asked`` for
    the brand ``to``; ``link_error``)."""
    ui = visitor.ui
    names = brand_names(session, visitor, found)
    accounts = coalitions.accounts(session, found, member.id)
    shown = coalitions.movements(session, found, member.id, HISTORY) if accounts else []
    defaults: dict[str, Any] = {"done": None, "move_error": None, "asked": "", "to": "", "link_error": None}
    return page(
        request,
        visitor,
        "coalition.html",
        "coalition",
        status_code,
        rates=words.rates(ui, found, names),
        linked=bool(accounts),
        overview=words.overview(ui, found, accounts, names),
        unit_hint=ui.n("coalition.move.hint", found.brand_of(member.program_id).points_per_unit),
        movements=[words.movement_line(ui, movement, names, visitor.program.zone) for movement in shown],
        email=member.email or "",
        **{**defaults, **context},
    )


@router.get("/coalition")
def coalition(request: Request, visitor: VisitorDep, session: SessionDep, done: str = "") -> Response:
    """The brands and their rates; linked, the accounts, the form to move points and the movements; not linked,
    what linking does and the button to link."""
    member = visitor.signed_in()
    found = require_coalition(visitor)
    said = visitor.ui.t(DONE[done]) if done in DONE else None
    return coalition_page(request, visitor, session, member, found, done=said)


# --- linking and unlinking -----------------------------------------------------------------------------------------


@router.post("/coalition/link")
def link(request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep, csrf: CsrfField = "") -> Response:
    """Link the member's accounts at the brands that know their e-mail address: asking is their consent, and the
    portal's sign-in proved the address is theirs. Linking again adds the accounts that are new since."""
    member = visitor.signed_in()
    found = require_coalition(visitor)
    require_csrf(visitor, csrf)
    try:
        coalitions.link(session, found, member, now)
        session.commit()
    except EmailMissing as error:
        session.rollback()
        message = visitor.ui.t("coalition.link.no_email")
        return coalition_page(request, visitor, session, member, found, error.status, link_error=message)
    return RedirectResponse(visitor.url("/coalition?done=linked"), status_code=303)


@router.get("/coalition/link")
def link_form(visitor: VisitorDep) -> Response:
    """A refused link is a posted page; asked for again (a language switched on it), the coalition page."""
    visitor.signed_in()
    return RedirectResponse(visitor.url("/coalition"), status_code=303)


@router.get("/coalition/unlink")
def confirm_unlink(request: Request, visitor: VisitorDep, session: SessionDep) -> Response:
    """The confirmation step: what unlinking does and does not undo. Not linked, the coalition page."""
    member = visitor.signed_in()
    found = require_coalition(visitor)
    if not coalitions.accounts(session, found, member.id):
        return RedirectResponse(visitor.url("/coalition"), status_code=303)
    return page(request, visitor, "coalition_unlink.html", "coalition")


@router.post("/coalition/unlink")
def unlink(visitor: VisitorDep, session: SessionDep, now: NowDep, csrf: CsrfField = "") -> Response:
    """Undo the member's links at every brand; points already moved stay where they went."""
    member = visitor.signed_in()
    found = require_coalition(visitor)
    require_csrf(visitor, csrf)
    coalitions.unlink(session, found, member, now)
    session.commit()
    return RedirectResponse(visitor.url("/coalition?done=unlinked"), status_code=303)


# --- moving points -------------------------------------------------------------------------------------------------


def _refused(
    request: Request,
    visitor: Visitor,
    session: Session,
    member: Member,
    found: Coalition,
    status_code: int,
    code: str,
    to: str,
    typed: str,
) -> Response:
    """The coalition page saying why moving the points ``typed`` to the brand ``to`` was refused (the error's
    ``code``)."""
    accounts = coalitions.accounts(session, found, member.id)
    available = next((account.available for account in accounts if account.member_id == member.id), 0)
    per_unit = found.brand_of(member.program_id).points_per_unit
    message = words.refusal(visitor.ui, code, available=available, per_unit=per_unit)
    return coalition_page(
        request, visitor, session, member, found, status_code, move_error=message, asked=typed[:12], to=to[:63]
    )


@router.get("/coalition/transfer")
def confirm_transfer(
    request: Request, visitor: VisitorDep, session: SessionDep, to: str = "", points: str = ""
) -> Response:
    """The confirmation step: the points that leave, the points that arrive at the partner's rate, what stays for
    not making a whole unit and what both accounts have after; the form carries a fresh key. Without points asked
    (a language switched here), the coalition page."""
    member = visitor.signed_in()
    found = require_coalition(visitor)
    if not points:
        return RedirectResponse(visitor.url("/coalition"), status_code=303)
    asked = whole_points(points)
    if asked is None:
        return _refused(request, visitor, session, member, found, 400, "invalid_points", to, points)
    try:
        receiver = found.brand(to)
        exchange = sending(found, found.brand_of(member.program_id), receiver, asked)
    except CoalitionRefused as refused:
        error = as_error(refused)
        return _refused(request, visitor, session, member, found, error.status, error.code, to, points)
    accounts = {account.brand.program_id: account for account in coalitions.accounts(session, found, member.id)}
    if receiver.program_id not in accounts:
        return _refused(request, visitor, session, member, found, 422, "coalition_not_linked", to, points)
    sender = accounts[member.program_id]
    if exchange.sent > sender.available:
        return _refused(request, visitor, session, member, found, 422, "insufficient_points", to, points)
    names = brand_names(session, visitor, found)
    return page(
        request,
        visitor,
        "coalition_move.html",
        "coalition",
        move=words.question(visitor.ui, sender, accounts[receiver.program_id], asked, exchange, names),
        key=secrets.token_urlsafe(24),
    )


@router.post("/coalition/transfer")
def transfer(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    now: NowDep,
    to: Annotated[str, Form(max_length=63)] = "",
    points: Annotated[str, Form(max_length=64)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
    csrf: CsrfField = "",
) -> Response:
    """Move once per form: a double submit (same ``key``) moves nothing more and lands on the same page."""
    member = visitor.signed_in()
    found = require_coalition(visitor)
    require_csrf(visitor, csrf)
    if not valid_idempotency_key(key):
        raise FormExpired
    asked = whole_points(points)
    if asked is None:
        return _refused(request, visitor, session, member, found, 400, "invalid_points", to, points)
    digest = request_hash({"to": to, "points": asked})
    try:
        committed_once(
            session,
            lambda: coalitions.transfer(
                session, found, member, to, asked, key=PORTAL_KEY_PREFIX + key, digest=digest, now=now
            ),
        )
    except PunchcardError as error:
        session.rollback()
        return _refused(request, visitor, session, member, found, error.status, error.code, to, points)
    return RedirectResponse(visitor.url("/coalition?done=moved"), status_code=303)
