"""/portal/{slug}/push/…: the portal's own script turns notifications on and off for the device it runs on
(``static/push.js``, from the profile page's "Notifications on this device").

These answer a script, not a person: JSON in and out, and every failure in the API's error envelope
(``{"error": {"code", "message", "details"}}``, docs/errors.md), never a page. Writes need the signed-in member and
this browser's CSRF token in the ``X-CSRF-Token`` header, and change nothing when anything is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError

from punchcard.kit.errors import body_failure
from punchcard.kit.http import NowDep, SessionDep, UnsupportedMediaType, require_json
from punchcard.member.service import Member
from punchcard.portal.domain import csrf_valid
from punchcard.portal.errors import CsrfTokenInvalid, SignInNeeded
from punchcard.portal.rendering import PageNotFound
from punchcard.portal.routes.common import SettingsDep, Visitor, get_visitor, portal_router
from punchcard.program.errors import ProgramNotFound
from punchcard.push import service as push
from punchcard.push.schemas import EndpointIn, SubscriptionIn

router = portal_router()

CSRF_HEADER = "X-CSRF-Token"
Body = TypeVar("Body", bound=BaseModel)


def script_visitor(request: Request, slug: str, session: SessionDep, settings: SettingsDep, now: NowDep) -> Visitor:
    """The visitor, with an unknown program answered in JSON (``program_not_found``) rather than as a page."""
    try:
        return get_visitor(request, slug, session, settings, now)
    except PageNotFound as error:
        raise ProgramNotFound(f"no program {slug!r}", [{"program": slug}]) from error


ScriptVisitorDep = Annotated[Visitor, Depends(script_visitor)]


@dataclass(frozen=True)
class Sent:
    """The body, read before the (synchronous) endpoint runs, and why its media type is refused, if it is: refused
    only after the member and the CSRF token are checked (docs/errors.md lists the order)."""

    raw: bytes
    refusal: UnsupportedMediaType | None


async def sent_body(request: Request) -> Sent:
    try:
        await require_json(request)
    except UnsupportedMediaType as refusal:
        return Sent(b"", refusal)
    return Sent(await request.body(), None)


BodyDep = Annotated[Sent, Depends(sent_body)]


def _member(visitor: Visitor) -> Member:
    if visitor.member is None:
        raise SignInNeeded("sign in to the portal first", [{"sign_in": visitor.url("/sign-in")}])
    return visitor.member


def _writer(visitor: Visitor, request: Request) -> Member:
    """The signed-in member, when the request carries this browser's CSRF token."""
    member = _member(visitor)
    if not csrf_valid(visitor.session_token, request.headers.get(CSRF_HEADER, "")):
        raise CsrfTokenInvalid(
            f"the {CSRF_HEADER} header is missing or not this session's: reload the page",
            [{"field": f"header.{CSRF_HEADER.lower()}", "message": "must be the page's CSRF token"}],
        )
    return member


def _parsed(model: type[Body], body: Sent) -> Body:
    if body.refusal is not None:
        raise body.refusal
    try:
        return model.model_validate_json(body.raw)
    except ValidationError as error:
        raise body_failure(error.errors()) from error


@router.get("/push/key")
def push_key(visitor: ScriptVisitorDep, session: SessionDep, now: NowDep) -> JSONResponse:
    """The program's VAPID public key, the ``applicationServerKey`` a device subscribes with."""
    _member(visitor)
    key = push.public_key(session, visitor.version.program_id, now)
    session.commit()  # made on first use
    return JSONResponse({"public_key": key})


@router.post("/push/subscriptions")
def subscribe(
    request: Request,
    visitor: ScriptVisitorDep,
    body: BodyDep,
    session: SessionDep,
    settings: SettingsDep,
    now: NowDep,
) -> JSONResponse:
    """Turn notifications on for this device: 201 for a new one, 200 when it was on already (one row either way)."""
    member = _writer(visitor, request)
    given = _parsed(SubscriptionIn, body)
    kept = push.subscribe(
        session, visitor.version.program_id, member.id, given, now, allow_private=settings.push_allow_private
    )
    session.commit()
    answer: dict[str, Any] = {"endpoint": kept.endpoint, "created_at": kept.created_at.isoformat()}
    return JSONResponse(answer, status_code=201 if kept.created else 200)


@router.delete("/push/subscriptions")
def unsubscribe(request: Request, visitor: ScriptVisitorDep, body: BodyDep, session: SessionDep) -> Response:
    """Turn notifications off for this device (204 whether or not it was on: the device's wish is done)."""
    member = _writer(visitor, request)
    given = _parsed(EndpointIn, body)
    push.unsubscribe(session, member.id, given.endpoint)
    session.commit()
    return Response(status_code=204)
