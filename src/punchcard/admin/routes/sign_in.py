"""Signing in and out, and the signed-in staff member's own account: choosing a new password (which staff given a
one-time password must do before anything else)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Query, Request
from fastapi.responses import Response

from punchcard.admin import cookies, sign_in, staffing
from punchcard.admin.frame import Frame, redirect
from punchcard.admin.guard import Staff
from punchcard.admin.routes.common import SettingsDep, Viewer, acting, console_router
from punchcard.kit.errors import PunchcardError
from punchcard.kit.http import NowDep, SessionDep
from punchcard.staff import service as staff_service
from punchcard.staff.domain import Permission

router = console_router()


def secure_cookies(settings: SettingsDep) -> bool:
    """Cookies are ``Secure`` when staff reach the console over HTTPS."""
    return settings.public_url.startswith("https://")


SecureDep = Annotated[bool, Depends(secure_cookies)]
Acting = Annotated[Staff, Depends(acting(Permission.VIEW))]
Password = Annotated[str, Form(max_length=1024)]


@router.get("/sign-in")
def sign_in_page(
    request: Request,
    session: SessionDep,
    secure: SecureDep,
    now: NowDep,
    next_path: Annotated[str, Query(alias="next", max_length=2000)] = "",
) -> Response:
    if staff_service.signed_in(session, cookies.session_token(request), now) is not None:
        return redirect(sign_in.safe_next(next_path))
    return sign_in.page(request, secure=secure, next_path=sign_in.safe_next(next_path))


@router.post("/sign-in")
def sign_in_with_password(
    request: Request,
    session: SessionDep,
    secure: SecureDep,
    now: NowDep,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Password = "",
    form_token: Annotated[str, Form(max_length=100)] = "",
    next_path: Annotated[str, Form(alias="next", max_length=2000)] = "/admin",
) -> Response:
    """Sign in; failures are counted (and committed) before answering, so retries are slowed down and locked."""
    back = sign_in.safe_next(next_path)
    if not cookies.sign_in_form_valid(request, form_token):
        return sign_in.page(request, secure=secure, status=400, email=email, next_path=back, error=sign_in.FORM_EXPIRED)
    outcome = staff_service.sign_in(session, email, password, now)
    session.commit()
    if outcome.token is None or outcome.account is None:
        if outcome.refusal is None:
            return sign_in.page(request, secure=secure, status=401, email=email, next_path=back, error=sign_in.WRONG)
        message, wait = sign_in.refused(outcome.refusal, now)
        page = sign_in.page(request, secure=secure, status=429, email=email, next_path=back, error=message)
        page.headers["Retry-After"] = str(wait)
        return page
    response = redirect("/admin/account" if outcome.account.must_change_password else back)
    cookies.start_session(response, outcome.token, secure=secure)
    return response


@router.post("/sign-out")
def sign_out(session: SessionDep, secure: SecureDep, staff: Acting, now: NowDep) -> Response:
    staff_service.sign_out(session, staff.account, staff.session_token, now)
    session.commit()
    response = redirect("/admin/sign-in")
    cookies.end_session(response, secure=secure)
    return response


@router.get("/account")
def account_page(session: SessionDep, staff: Viewer, notice: str = "") -> Response:
    return staffing.account_page(Frame(session, staff, section="account"), notice=notice)


@router.post("/account/password")
def change_password(
    session: SessionDep, staff: Acting, now: NowDep, current: Password = "", new: Password = "", repeat: Password = ""
) -> Response:
    frame = Frame(session, staff, section="account")
    if new != repeat:
        return staffing.account_page(frame, 422, errors={"repeat": "does not match the new password"})
    try:
        staff_service.change_password(session, staff.account, current, new, staff.session_token, now)
    except PunchcardError as error:
        session.rollback()
        return staffing.account_page(frame, 422, errors={d["field"]: d["message"] for d in error.details})
    session.commit()
    return redirect("/admin/account", notice="password_changed")
