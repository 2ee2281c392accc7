"""What the console's route modules share: the router they are built on, who is signed in and what their role allows
(checked on every route, server-side), each form's CSRF token, the program a page is about, and the fields several
pages take."""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Iterable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from starlette.routing import BaseRoute

from punchcard.admin import cookies
from punchcard.admin.guard import PasswordChangeRequired, SignInRequired, Staff
from punchcard.admin.members import SignInLinks
from punchcard.admin.routing import AdminRoute
from punchcard.kit.http import NowDep, SessionDep
from punchcard.kit.settings import Settings
from punchcard.program import service as program_service
from punchcard.program.domain import ProgramVersion
from punchcard.staff import service as staff_service
from punchcard.staff.domain import Permission

ACCOUNT_PATHS = ("/admin/account", "/admin/account/password", "/admin/sign-out")
"""Where staff with a one-time password may go before choosing their own."""


def console_router(routes: Iterable[BaseRoute] = ()) -> APIRouter:
    """A router for console routes: under ``/admin``, through ``AdminRoute``, left out of the API's schema. Each page
    group builds its routes on one; the package joins theirs into one (see ``punchcard.admin.routes``)."""
    return APIRouter(routes=list(routes), prefix="/admin", route_class=AdminRoute, include_in_schema=False)


# --- dependencies -------------------------------------------------------------------------------------------------


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


def sign_in_links(request: Request) -> SignInLinks:
    """The portal's sign-in links, as the application handed them to the console (``admin.members.SignInLinks``)."""
    links: SignInLinks = request.app.state.sign_in_links
    return links


SignInLinksDep = Annotated[SignInLinks, Depends(sign_in_links)]


def signed_in(request: Request, session: SessionDep, now: NowDep) -> Staff:
    token = cookies.session_token(request)
    account = staff_service.signed_in(session, token, now)
    if account is None or token is None:
        wanted = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise SignInRequired(wanted if request.method == "GET" else "/admin")
    if account.must_change_password and request.url.path not in ACCOUNT_PATHS:
        raise PasswordChangeRequired
    return Staff(account, token)


def allowed(permission: Permission) -> Callable[[Staff], Staff]:
    """A dependency: the signed-in staff member, if their role has ``permission`` (else 403)."""

    def dependency(staff: Annotated[Staff, Depends(signed_in)]) -> Staff:
        staff.require(permission)
        return staff

    return dependency


def acting(permission: Permission) -> Callable[[Request, Staff], Coroutine[Any, Any, Staff]]:
    """Like ``allowed``, for a form: the form must also carry this session's CSRF token."""

    async def dependency(request: Request, staff: Annotated[Staff, Depends(signed_in)]) -> Staff:
        staff.require(permission)
        staff.check_form((await request.form()).get("csrf_token"))
        return staff

    return dependency


Viewer = Annotated[Staff, Depends(allowed(Permission.VIEW))]


def program_version(slug: str, session: SessionDep) -> ProgramVersion:
    return program_service.current(session, program_service.program_id_for(session, slug))


ProgramDep = Annotated[ProgramVersion, Depends(program_version)]
DateFrom = Annotated[str, Query(alias="from", max_length=10)]
DateTo = Annotated[str, Query(alias="to", max_length=10)]
Note = Annotated[str, Form(max_length=500)]
