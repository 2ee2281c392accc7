"""/portal/{slug}: the member portal's pages and forms. The request boundary: it signs in, commits, then sends mail.

Every route runs through ``PortalRoute`` (HTML failures, security headers, cookies). Every POST form carries a CSRF
token tied to the browser's session (before sign-in, to a random browser cookie).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, BackgroundTasks, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from punchcard.api.deps import NowDep, SessionDep
from punchcard.i18n.catalogue import accepted, supported
from punchcard.i18n.translator import Translator, language_name
from punchcard.kit.calendar import local_date
from punchcard.kit.errors import IdempotencyConflict, PunchcardError
from punchcard.kit.settings import Settings
from punchcard.member.models import Member
from punchcard.portal import barcode, qr, service, views
from punchcard.portal.domain import SESSION_LIFETIME, csrf_token, csrf_valid, valid_idempotency_key
from punchcard.portal.errors import CouponNotYours, ShopLinkInvalid, SignInLinkInvalid
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
from punchcard.reward.errors import RewardNotFound

router = APIRouter(prefix="/portal/{slug}", route_class=PortalRoute, include_in_schema=False)

SESSION_COOKIE = "punchcard_session"
BROWSER_COOKIE = "punchcard_browser"
"""A random value given to signed-out browsers: the CSRF token of the sign-in form is derived from it."""
YEAR = 365 * 24 * 3600

NAVIGATION = (
    ("home", "", "nav.home"),
    ("history", "/history", "nav.history"),
    ("rewards", "/rewards", "nav.rewards"),
    ("coupons", "/coupons", "nav.coupons"),
    ("card", "/card", "nav.card"),
    ("profile", "/profile", "nav.profile"),
)


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


def _language(request: Request, offered: tuple[str, ...], member: Member | None, secure: bool) -> str:
    """The switch (``?lang=``, then remembered in a cookie), then the member's own language, then the browser's wish,
    then the program's first language; only languages the program offers."""
    asked = supported(request.query_params.get("lang"))
    if asked is not None and asked in offered:
        set_cookie(request, LANGUAGE_COOKIE, asked, path="/portal", max_age=YEAR, secure=secure)
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
    return Visitor(version, member, token if member else None, browser_secret, ui, offered, secure)


VisitorDep = Annotated[Visitor, Depends(get_visitor)]
CsrfField = Annotated[str, Form()]


def _page(
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
        navigation=NAVIGATION,
        languages=[(language, language_name(language)) for language in visitor.languages],
        **context,
    )


def _require_csrf(visitor: Visitor, submitted: str) -> None:
    if not csrf_valid(visitor.session_token or visitor.browser_secret, submitted):
        raise FormExpired


# --- signing in and out -------------------------------------------------------------------------------------------


@router.get("/sign-in")
def sign_in_page(request: Request, visitor: VisitorDep) -> Response:
    if visitor.member is not None:
        return RedirectResponse(visitor.url(), status_code=303)
    return _page(request, visitor, "sign_in.html", "sign-in", email="", error=None)


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
        return _page(request, visitor, "sign_in.html", "sign-in", 400, email=email, error="sign_in.form_expired")
    try:
        address = validate_email(email, check_deliverability=False).normalized
    except EmailNotValidError:
        return _page(request, visitor, "sign_in.html", "sign-in", 400, email=email, error="sign_in.email_invalid")
    program_id = visitor.version.program_id
    service.request_link(session, program_id, address, now, language=visitor.ui.language, source="portal")
    session.commit()  # the mail goes out from the outbox (``portal.consumers``)
    return _page(request, visitor, "sign_in_sent.html", "sign-in", email=address)


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
        return _page(request, visitor, "link_invalid.html", "sign-in", 400, body="link.invalid.body")
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
        return _page(request, visitor, "link_invalid.html", "sign-in", 400, body="link.shop_invalid.body")
    return _start_session(request, visitor, session, found, now)


@router.post("/sign-out")
def sign_out(request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep, csrf: CsrfField = "") -> Response:
    if visitor.session_token is not None:
        _require_csrf(visitor, csrf)
        service.end_session(session, visitor.version.program_id, visitor.session_token, now)
        session.commit()
    set_cookie(request, SESSION_COOKIE, "", path=visitor.url(), max_age=0, secure=visitor.secure)
    return RedirectResponse(visitor.url("/sign-in"), status_code=303)


# --- the member's pages -------------------------------------------------------------------------------------------


@router.get("")
def home(request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep) -> Response:
    member = visitor.signed_in()
    version = visitor.version
    affordable = [item for item in views.standings(session, version, member, now) if item.redeemable]
    return _page(
        request,
        visitor,
        "home.html",
        "home",
        points=views.points(session, version, member, now),
        tier=views.tier_card(session, version, member, now),
        affordable=affordable,
    )


@router.get("/history")
def history(request: Request, visitor: VisitorDep, session: SessionDep, before: int | None = None) -> Response:
    member = visitor.signed_in()
    movements, cursor = views.history(session, visitor.version, member, before)
    zone = visitor.program.zone
    rows = [(local_date(movement.occurred_at, zone), movement) for movement in movements]
    return _page(request, visitor, "history.html", "history", rows=rows, cursor=cursor)


@router.get("/rewards")
def rewards(request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep) -> Response:
    member = visitor.signed_in()
    return _page(
        request,
        visitor,
        "rewards.html",
        "rewards",
        standings=views.standings(session, visitor.version, member, now),
        available=views.points(session, visitor.version, member, now).available,
        describe=lambda benefit: views.describe_benefit(visitor.ui, benefit, visitor.program.currency),
    )


def _confirmation(
    request: Request,
    visitor: Visitor,
    session: SessionDep,
    member: Member,
    code: str,
    now: datetime,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    standing = views.standing(session, visitor.version, member, code, now)
    if standing is None:
        raise PageNotFound
    available = views.points(session, visitor.version, member, now).available
    return _page(
        request,
        visitor,
        "redeem.html",
        "rewards",
        status_code,
        standing=standing,
        available=available,
        benefit=views.describe_benefit(visitor.ui, standing.reward.benefit, visitor.program.currency),
        key=secrets.token_urlsafe(24),
        error=error,
    )


@router.get("/rewards/{code}")
def confirm_redemption(request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep, code: str) -> Response:
    """The confirmation step: what the reward costs and what is left after; the form carries a fresh key."""
    return _confirmation(request, visitor, session, visitor.signed_in(), code, now)


@router.post("/rewards/{code}")
def redeem(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    now: NowDep,
    code: str,
    key: Annotated[str, Form()] = "",
    csrf: CsrfField = "",
) -> Response:
    """Redeem once per form: a double submit (same ``key``) returns the coupon of the first."""
    member = visitor.signed_in()
    _require_csrf(visitor, csrf)
    if not valid_idempotency_key(key):
        raise FormExpired
    try:
        coupon = service.redeem(session, visitor.version, member, code, key, now)
    except RewardNotFound as error:
        raise PageNotFound from error
    except IdempotencyConflict:
        session.rollback()
        return _confirmation(request, visitor, session, member, code, now, 409, "redeem.conflict")
    except PunchcardError:
        session.rollback()
        return _confirmation(request, visitor, session, member, code, now, 409, "redeem.failed")
    session.commit()
    return RedirectResponse(visitor.url(f"/coupons/{coupon}?new=1"), status_code=303)


@router.get("/coupons")
def coupons(request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep) -> Response:
    member = visitor.signed_in()
    cards = views.coupon_cards(session, visitor.version, member, now)
    sections = [
        (status, heading, [card for card in cards if card.status == status])
        for status, heading in (
            ("active", "coupons.active"),
            ("redeemed", "coupons.used"),
            ("expired", "coupons.expired"),
        )
    ]
    return _page(request, visitor, "coupons.html", "coupons", sections=sections, count=len(cards))


@router.get("/coupons/{code}")
def coupon(
    request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep, code: str, new: bool = False
) -> Response:
    member = visitor.signed_in()
    try:
        card = views.coupon_card(session, visitor.version, member, code, now)
    except CouponNotYours as error:
        raise PageNotFound from error
    return _page(
        request,
        visitor,
        "coupon.html",
        "coupons",
        coupon=card,
        new=new,
        benefit=views.describe_benefit(visitor.ui, card.benefit, visitor.program.currency),
        qr=qr.svg(card.code, visitor.ui.t("coupon.qr")),
    )


@router.get("/card")
def card(request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep) -> Response:
    member = visitor.signed_in()
    number = member.external_id
    drawn = barcode.svg(number, visitor.ui.t("card.barcode")) if barcode.encodable(number) else None
    return _page(
        request,
        visitor,
        "card.html",
        "card",
        qr=qr.svg(number, visitor.ui.t("card.qr")),
        barcode=drawn,
        tier=views.tier_card(session, visitor.version, member, now),
        since=local_date(member.enrolled_at, visitor.program.zone),
    )


@router.get("/profile")
def profile(request: Request, visitor: VisitorDep, saved: bool = False) -> Response:
    member = visitor.signed_in()
    return _profile_page(request, visitor, member, saved=saved)


def _profile_page(
    request: Request,
    visitor: Visitor,
    member: Member,
    *,
    status_code: int = 200,
    saved: bool = False,
    error: str | None = None,
    form: dict[str, Any] | None = None,
) -> Response:
    values = form or {
        "language": supported(member.language) or visitor.ui.language,
        "birth_date": member.birth_date.isoformat() if member.birth_date else "",
        "marketing_consent": member.marketing_consent,
    }
    return _page(request, visitor, "profile.html", "profile", status_code, saved=saved, error=error, form=values)


@router.post("/profile")
def save_profile(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    now: NowDep,
    language: Annotated[str, Form()] = "",
    birth_date: Annotated[str, Form()] = "",
    marketing_consent: Annotated[str, Form()] = "",
    csrf: CsrfField = "",
) -> Response:
    """Save the profile; consent counts only when the box was ticked (an absent field is a "no")."""
    member = visitor.signed_in()
    _require_csrf(visitor, csrf)
    consent = marketing_consent == "yes"
    form = {"language": language, "birth_date": birth_date, "marketing_consent": consent}
    if language not in visitor.languages:
        return _profile_page(request, visitor, member, status_code=400, error="profile.language_invalid", form=form)
    try:
        born = _birth_date(birth_date.strip(), local_date(now, visitor.program.zone))
    except ValueError:
        return _profile_page(request, visitor, member, status_code=400, error="profile.birth_date_invalid", form=form)
    service.update_profile(session, member, now, language=language, birth_date=born, marketing_consent=consent)
    session.commit()
    set_cookie(request, LANGUAGE_COOKIE, language, path="/portal", max_age=YEAR, secure=visitor.secure)
    return RedirectResponse(visitor.url("/profile?saved=1"), status_code=303)


def _birth_date(text: str, today: date) -> date | None:
    """The birth date typed (``None`` when left empty); ``ValueError`` unless it is a real date in the past."""
    if not text:
        return None
    born = date.fromisoformat(text)
    if not date(1900, 1, 1) <= born < today:
        raise ValueError("a birth date lies in the past")
    return born


@router.get("/{rest:path}")
def unknown_page(visitor: VisitorDep, rest: str) -> Response:
    """Any other address under the portal: its own 404 page (the API would answer in JSON), or home for ``/``."""
    if rest == "":
        return RedirectResponse(visitor.url(), status_code=308)
    raise PageNotFound
