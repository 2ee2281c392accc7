"""Turning portal pages into HTTP responses: templates, our own static assets, security headers, and HTML (never
JSON) for the failures a member can meet, such as an unknown page, a signed-out visit or an expired form.

``PortalRoute`` wraps every portal endpoint: the API's error handlers answer in JSON, which a member must never see.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from punchcard.i18n.catalogue import DEFAULT, accepted, supported
from punchcard.i18n.translator import Translator

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
STATIC_URL = "/portal-assets"

TEMPLATES = Environment(
    loader=FileSystemLoader(HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)

LANGUAGE_COOKIE = "punchcard_lang"

SECURITY_HEADERS = {
    # No framing (the redemption form must not be clickjacked), no plugins, no <base> tricks, forms post home only.
    "Content-Security-Policy": "frame-ancestors 'none'; object-src 'none'; base-uri 'none'; form-action 'self'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    # Sign-in links carry their token in the URL: never pass a portal URL on to another site.
    "Referrer-Policy": "no-referrer",
    # Pages show one member's points and coupons: no shared cache may keep them.
    "Cache-Control": "no-store",
}


@cache
def asset(name: str) -> str:
    """The URL of a static file with a content hash, so browsers may cache it and still see every new version."""
    digest = hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
    return f"{STATIC_URL}/{name}?v={digest}"


TEMPLATES.globals["asset"] = asset


@dataclass
class Cookie:
    name: str
    value: str
    path: str
    max_age: int | None
    secure: bool


@dataclass
class Pending:
    """What an endpoint's dependencies decided to send along with whatever response the endpoint returns."""

    cookies: list[Cookie] = field(default_factory=list)
    translator: Translator | None = None


def pending(request: Request) -> Pending:
    if not hasattr(request.state, "portal"):
        request.state.portal = Pending()
    found: Pending = request.state.portal
    return found


def set_cookie(request: Request, name: str, value: str, *, path: str, max_age: int | None, secure: bool) -> None:
    pending(request).cookies.append(Cookie(name, value, path, max_age, secure))


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(TEMPLATES.get_template(template).render(request=request, **context), status_code=status_code)


class PageNotFound(Exception):
    """Answer 404 with the portal's own page."""


class FormExpired(Exception):
    """A form came back without the CSRF token of this browser's session: answer 403 and ask to try again."""


class SignInRequired(Exception):
    """Send the visitor to the sign-in page of the program they tried to see."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def _fallback_translator(request: Request) -> Translator:
    """The language for a page shown before the program is known: the switch's cookie, then the browser's wish."""
    chosen = supported(request.cookies.get(LANGUAGE_COOKIE))
    return Translator(chosen or next(iter(accepted(request.headers.get("accept-language"))), DEFAULT))


def problem_page(request: Request, status_code: int, title: str, body: str) -> HTMLResponse:
    ui = pending(request).translator or _fallback_translator(request)
    slug = request.path_params.get("slug")
    home = f"/portal/{slug}" if slug else None
    return render(request, "problem.html", status_code, ui=ui, title=title, body=body, home=home)


class PortalRoute(APIRoute):
    """An APIRoute that answers members in HTML: failures become pages, and every response gets the portal's
    security headers and the cookies its dependencies set."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                response = await handler(request)
            except SignInRequired as redirect:
                response = RedirectResponse(redirect.location, status_code=303)
            except PageNotFound:
                response = problem_page(request, 404, "error.not_found.title", "error.not_found.body")
            except FormExpired:
                response = problem_page(request, 403, "error.form_expired.title", "error.form_expired.body")
            except RequestValidationError:
                response = problem_page(request, 400, "error.bad_request.title", "error.bad_request.body")
            for cookie in pending(request).cookies:
                response.set_cookie(
                    cookie.name,
                    cookie.value,
                    max_age=cookie.max_age,
                    path=cookie.path,
                    secure=cookie.secure,
                    httponly=True,
                    samesite="lax",
                )
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return guarded
