"""What the portal's route modules share: the router they are built on, the visitor (which program, which member if
signed in, which language, cookies), the page frame, and the CSRF check."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from starlette.routing import BaseRoute

from punchcard.coalition import service as coalitions
from punchcard.coalition.domain import Coalition
from punchcard.i18n.catalogue import accepted, supported
from punchcard.i18n.translator import Translator, language_name
from punchcard.kit.http import NowDep, SessionDep
from punchcard.kit.settings import Settings
from punchcard.member.service import Member
from punchcard.portal import service
from punchcard.portal.domain import csrf_token, csrf_valid
from punchcard.portal.rendering import (
    LANGUAGE_COOKIE,
    FormExpired,
    PageNotFound,
    PortalRoute,
    SignInRequired,
    pending,
    render,
    set_cookie,
)
from punchcard.program import service as programs
from punchcard.program.domain import Program, ProgramVersion
from punchcard.program.errors import ProgramNotFound

SESSION_COOKIE = "punchcard_session"
BROWSER_COOKIE = "punchcard_browser"
"""A random value given to signed-out browsers: the CSRF token of the sign-in form is derived from it."""
YEAR = 365 * 24 * 3600

NAVIGATION = (
    ("home", "", "nav.home"),
    ("history", "/history", "nav.history"),
    ("rewards", "/rewards", "nav.rewards"),
    ("coupons", "/coupons", "nav.coupons"),
    ("wallet", "/wallet", "nav.wallet"),
    ("card", "/card", "nav.card"),
    ("profile", "/profile", "nav.profile"),
)
ENGAGEMENT_AFTER = "coupons"
"""The engagement pages' tabs come after this one."""


def has_games(program: Program) -> bool:
    """Whether the program has challenges, badges or streaks: the challenges page is shown."""
    return bool(program.challenges or program.badges or program.streaks)


def has_plans(program: Program) -> bool:
    """Whether the program has membership plans (sold now or withdrawn, which current members may still be on): the
    membership page is shown."""
    return bool(program.plans)


def has_causes(program: Program) -> bool:
    """Whether the program lists causes (open now or not): the causes page is shown."""
    return bool(program.causes)


def navigation_of(program: Program, in_coalition: bool) -> tuple[tuple[str, str, str], ...]:
    """The tabs: every portal's, the engagement pages of a program that has their mechanics, and the coalition page
    of a program in a coalition."""
    extra = []
    if has_games(program):
        extra.append(("challenges", "/challenges", "challenge.nav"))
    if program.referrals is not None:
        extra.append(("referral", "/referral", "referral.nav"))
    if has_plans(program):
        extra.append(("membership", "/membership", "membership.nav"))
    if has_causes(program):
        extra.append(("causes", "/causes", "causes.nav"))
    if in_coalition:
        extra.append(("coalition", "/coalition", "nav.coalition"))
    cut = next(index for index, (name, _, _) in enumerate(NAVIGATION) if name == ENGAGEMENT_AFTER) + 1
    return (*NAVIGATION[:cut], *extra, *NAVIGATION[cut:])


def portal_router(routes: Iterable[BaseRoute] = ()) -> APIRouter:
    """A router for portal routes: under ``/portal/{slug}``, through ``PortalRoute``, left out of the API's schema.
    Each page group builds its routes on one; the package joins theirs into one (see ``punchcard.portal.routes``)."""
    return APIRouter(routes=list(routes), prefix="/portal/{slug}", route_class=PortalRoute, include_in_schema=False)


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


def offered_languages(program: Program) -> tuple[str, ...]:
    """The program's languages that have a catalogue, in the program's order; English if none has."""
    found = [language for tag in program.languages if (language := supported(tag)) is not None]
    return tuple(dict.fromkeys(found)) or ("en",)


@dataclass
class Visitor:
    """Who is looking at which program, in which language, and the CSRF token their forms must carry."""

    version: ProgramVersion
    member: Member | None
    session_token: str | None
    browser_secret: str | None
    ui: Translator
    languages: tuple[str, ...]
    secure: bool
    coalition: Coalition | None
    """The coalition the program is in, looked up for a signed-in member only (its page and its tab are theirs); a
    founder whose partners have not joined yet is in none a member could use."""

    @property
    def program(self) -> Program:
        return self.version.program

    @property
    def csrf(self) -> str:
        return csrf_token(self.session_token or self.browser_secret or "")

    def url(self, path: str = "") -> str:
        return f"/portal/{self.program.slug}{path}"

    def signed_in(self) -> Member:
        if self.member is None:
            raise SignInRequired(self.url("/sign-in"))
        return self.member


def remember_language(request: Request, language: str, secure: bool) -> None:
    """Keep the language a visitor chose in a cookie for every portal, for a year."""
    set_cookie(request, LANGUAGE_COOKIE, language, path="/portal", max_age=YEAR, secure=secure)


def _language(request: Request, offered: tuple[str, ...], member: Member | None, secure: bool) -> str:
    """The switch (``?lang=``, then remembered in a cookie), then the member's own language, then the browser's wish,
    then the program's first language; only languages the program offers."""
    asked = supported(request.query_params.get("lang"))
    if asked is not None and asked in offered:
        remember_language(request, asked, secure)
        return asked
    wishes = [
        supported(request.cookies.get(LANGUAGE_COOKIE)),
        supported(member.language if member else None),
        *accepted(request.headers.get("accept-language")),
    ]
    return next((wish for wish in wishes if wish is not None and wish in offered), offered[0])


def get_visitor(request: Request, slug: str, session: SessionDep, settings: SettingsDep, now: NowDep) -> Visitor:
    try:
        version = programs.current(session, programs.program_id_for(session, slug))
    except ProgramNotFound as error:
        raise PageNotFound from error
    secure = settings.public_url.startswith("https://")
    token = request.cookies.get(SESSION_COOKIE)
    member = service.resume_session(session, version.program_id, token, now) if token else None
    browser_secret = request.cookies.get(BROWSER_COOKIE)
    if member is None and not browser_secret:
        browser_secret = secrets.token_urlsafe(32)
        set_cookie(request, BROWSER_COOKIE, browser_secret, path=f"/portal/{slug}", max_age=None, secure=secure)
    offered = offered_languages(version.program)
    ui = Translator(_language(request, offered, member, secure))
    pending(request).translator = ui
    found = coalitions.of_program(session, version) if member is not None else None
    coalition = found if found is not None and len(found.brands) > 1 else None
    return Visitor(version, member, token if member else None, browser_secret, ui, offered, secure, coalition)


VisitorDep = Annotated[Visitor, Depends(get_visitor)]
CsrfField = Annotated[str, Form()]


def page(
    request: Request, visitor: Visitor, template: str, current: str, status_code: int = 200, **context: Any
) -> HTMLResponse:
    return render(
        request,
        template,
        status_code,
        ui=visitor.ui,
        visitor=visitor,
        program=visitor.program,
        member=visitor.member,
        current=current,
        navigation=navigation_of(visitor.program, visitor.coalition is not None),
        languages=[(language, language_name(language)) for language in visitor.languages],
        **context,
    )


def require_csrf(visitor: Visitor, submitted: str) -> None:
    if not csrf_valid(visitor.session_token or visitor.browser_secret, submitted):
        raise FormExpired
