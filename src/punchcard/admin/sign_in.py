"""The sign-in page and what it says when a sign-in is refused (without telling whether an address has an account,
except that an account which exists can be locked)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse

from punchcard.admin import cookies, render
from punchcard.staff.domain import Refusal, RefusalKind

WRONG = "Wrong e-mail or password."
FORM_EXPIRED = "This sign-in form has expired. Please try again."


def safe_next(path: str) -> str:
    """Only a console path: a crafted sign-in link must not bounce anyone to another site after signing in."""
    return path if path.startswith("/admin") and not path.startswith("//") and "\\" not in path else "/admin"


def page(
    request: Request, *, secure: bool, status: int = 200, email: str = "", next_path: str = "/admin", **context: Any
) -> HTMLResponse:
    token = cookies.sign_in_form_token(request)
    response = render.page("sign_in.html", status, email=email, next_path=next_path, form_token=token, **context)
    cookies.keep_sign_in_form_token(response, token, secure=secure)
    return response


def refused(refusal: Refusal, now: datetime) -> tuple[str, int]:
    """The message for a refused attempt and the seconds until the next one is accepted (for ``Retry-After``)."""
    wait = max(int((refusal.until - now).total_seconds() + 0.999), 1)
    if refusal.kind is RefusalKind.LOCKED:
        return f"Too many failed sign-ins: this account is locked until {render.moment(refusal.until)}.", wait
    return f"{WRONG} Please wait {wait} seconds before trying again.", wait
