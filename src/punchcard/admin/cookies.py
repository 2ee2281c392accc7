"""The console's cookies: the staff session (HttpOnly, SameSite=Strict, Secure when served over HTTPS, limited to
``/admin``) and the sign-in form's own anti-forgery token, which exists before there is a session to bind one to."""

from __future__ import annotations

import secrets

from fastapi import Request, Response

from punchcard.staff.service import SESSION_LIFETIME

SESSION = "punchcard_admin"
SIGN_IN_FORM = "punchcard_admin_form"
PATH = "/admin"


def _set(response: Response, name: str, value: str, max_age: int, secure: bool) -> None:
    response.set_cookie(name, value, max_age=max_age, path=PATH, secure=secure, httponly=True, samesite="strict")


def session_token(request: Request) -> str | None:
    return request.cookies.get(SESSION)


def start_session(response: Response, token: str, *, secure: bool) -> None:
    _set(response, SESSION, token, int(SESSION_LIFETIME.total_seconds()), secure)
    response.delete_cookie(SIGN_IN_FORM, path=PATH, secure=secure, httponly=True, samesite="strict")


def end_session(response: Response, *, secure: bool) -> None:
    response.delete_cookie(SESSION, path=PATH, secure=secure, httponly=True, samesite="strict")


def sign_in_form_token(request: Request) -> str:
    """The token the sign-in form carries: the one already in the browser, or a new one (set by ``keep``)."""
    return request.cookies.get(SIGN_IN_FORM) or secrets.token_urlsafe(24)


def keep_sign_in_form_token(response: Response, token: str, *, secure: bool) -> None:
    _set(response, SIGN_IN_FORM, token, 3600, secure)


def sign_in_form_valid(request: Request, submitted: str) -> bool:
    """Double submit: the form's token must equal the cookie's, which another site can neither read nor set."""
    cookie = request.cookies.get(SIGN_IN_FORM)
    return bool(cookie) and secrets.compare_digest(cookie or "", submitted)
