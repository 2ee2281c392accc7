"""/admin: the console's routes. The request boundary: it checks who is signed in and what their role allows (on every
route, server-side), checks each form's CSRF token, calls the use cases, commits, and answers with a page.

Program pages live under ``/admin/p/{slug}``; staff accounts and sign-in are installation-wide. Every route runs
through ``AdminRoute`` (HTML failures, security headers). A successful form redirects (post/redirect/get), except the
two that show a secret once: a new API key and a new one-time password. The pages themselves are built by the modules
named after them (``members``, ``programs``, ``dashboard``...); this one only wires requests to them.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Form, Query, Request
from fastapi.responses import FileResponse, Response

from punchcard.admin import (
    audit,
    cookies,
    dashboard,
    forms,
    keys,
    members,
    preview,
    program_form,
    programs,
    queries,
    render,
    sign_in,
    staffing,
)
from punchcard.admin.audit import AuditQuery
from punchcard.admin.frame import Frame, redirect
from punchcard.admin.guard import PasswordChangeRequired, SignInRequired, Staff
from punchcard.admin.routing import AdminRoute
from punchcard.api.deps import NowDep, SessionDep
from punchcard.api.member_view import member_view
from punchcard.auth.service import Scope
from punchcard.i18n.catalogue import DEFAULT, supported
from punchcard.kit.errors import NotFound, PunchcardError
from punchcard.kit.settings import Settings
from punchcard.member import repository as member_rows
from punchcard.portal import service as portal
from punchcard.program import service as program_service
from punchcard.program.domain import ProgramVersion
from punchcard.program.errors import ProgramFileInvalid
from punchcard.staff import service as staff_service
from punchcard.staff.domain import Permission, Role

router = APIRouter(prefix="/admin", route_class=AdminRoute, include_in_schema=False)

ACCOUNT_PATHS = ("/admin/account", "/admin/account/password", "/admin/sign-out")
"""Where staff with a one-time password may go before choosing their own."""


# --- dependencies -------------------------------------------------------------------------------------------------


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


def secure_cookies(settings: SettingsDep) -> bool:
    """Cookies are ``Secure`` when staff reach the console over HTTPS."""
    return settings.public_url.startswith("https://")


SecureDep = Annotated[bool, Depends(secure_cookies)]


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
Acting = Annotated[Staff, Depends(acting(Permission.VIEW))]
Adjuster = Annotated[Staff, Depends(acting(Permission.ADJUST_POINTS))]
Blocker = Annotated[Staff, Depends(acting(Permission.BLOCK_MEMBERS))]
LinkSender = Annotated[Staff, Depends(acting(Permission.SEND_SIGN_IN_LINK))]
Editor = Annotated[Staff, Depends(allowed(Permission.EDIT_PROGRAM))]
Editing = Annotated[Staff, Depends(acting(Permission.EDIT_PROGRAM))]
KeyKeeper = Annotated[Staff, Depends(allowed(Permission.MANAGE_API_KEYS))]
KeyKeeping = Annotated[Staff, Depends(acting(Permission.MANAGE_API_KEYS))]
StaffManager = Annotated[Staff, Depends(allowed(Permission.MANAGE_STAFF))]
StaffManaging = Annotated[Staff, Depends(acting(Permission.MANAGE_STAFF))]


def program_version(slug: str, session: SessionDep) -> ProgramVersion:
    return program_service.current(session, program_service.program_id_for(session, slug))


ProgramDep = Annotated[ProgramVersion, Depends(program_version)]
DateFrom = Annotated[str, Query(alias="from", max_length=10)]
DateTo = Annotated[str, Query(alias="to", max_length=10)]
Note = Annotated[str, Form(max_length=500)]
Password = Annotated[str, Form(max_length=1024)]


# --- assets, start, signing in and out ----------------------------------------------------------------------------


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    if name not in render.STATIC_FILES:
        raise NotFound("no such file")
    return FileResponse(render.STATIC / name, headers={"Cache-Control": "public, max-age=31536000, immutable"})


@router.get("")
def start(session: SessionDep, staff: Viewer) -> Response:
    found = queries.programs(session)
    if not found:
        return Frame(session, staff).page("no_programs.html")
    return redirect(f"/admin/p/{found[0].slug}/dashboard")


@router.get("/switch")
def switch_program(staff: Viewer, program: str = "") -> Response:
    return redirect(f"/admin/p/{render.path_part(program)}/dashboard")


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


# --- dashboard, members, audit log --------------------------------------------------------------------------------


@router.get("/p/{slug}")
def program_home(staff: Viewer, version: ProgramDep) -> Response:
    return redirect(f"/admin/p/{version.program.slug}/dashboard")


@router.get("/p/{slug}/dashboard")
def dashboard_page(
    session: SessionDep, staff: Viewer, version: ProgramDep, now: NowDep, first: DateFrom = "", last: DateTo = ""
) -> Response:
    return dashboard.page(Frame(session, staff, version, "dashboard"), first, last, now)


@router.get("/p/{slug}/members")
def members_page(session: SessionDep, staff: Viewer, version: ProgramDep, q: str = "") -> Response:
    return members.search_page(Frame(session, staff, version, "members"), q)


@router.get("/p/{slug}/members/{external_id}")
def member_page(
    session: SessionDep,
    staff: Viewer,
    version: ProgramDep,
    now: NowDep,
    external_id: str,
    before: int | None = None,
    notice: str = "",
) -> Response:
    member = member_rows.get(session, version.program_id, external_id)
    view = member_view(session, version, member, now)
    return members.page(Frame(session, staff, version, "members"), member, view, now, before=before, notice=notice)


@router.post("/p/{slug}/members/{external_id}/adjustments")
def adjust_points(
    session: SessionDep,
    staff: Adjuster,
    version: ProgramDep,
    now: NowDep,
    external_id: str,
    points: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
    form_key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    frame = Frame(session, staff, version, "members")
    member = member_rows.get(session, version.program_id, external_id)
    adjustment, errors = forms.adjustment(points, reason)
    if adjustment is not None:
        try:
            members.adjust(session, staff, version, member, adjustment, form_key, now)
        except PunchcardError as error:
            session.rollback()
            errors = {"points": error.message}
    if errors:
        view = member_view(session, version, member, now)
        form = {"points": points, "reason": reason}
        return members.page(frame, member, view, now, 422, errors=errors, form=form)
    session.commit()
    return redirect(f"{frame.base}/members/{render.path_part(external_id)}", notice="adjusted")


@router.post("/p/{slug}/members/{external_id}/status")
def change_member_status(
    session: SessionDep,
    staff: Blocker,
    version: ProgramDep,
    now: NowDep,
    external_id: str,
    blocked: Annotated[bool, Form()] = False,
    reason: Note = "",
) -> Response:
    frame = Frame(session, staff, version, "members")
    member = member_rows.get(session, version.program_id, external_id)
    if len(reason.strip()) < 3:
        errors = {"status_reason": "say why, in at least 3 characters (it goes to the audit log)"}
        view = member_view(session, version, member, now)
        return members.page(frame, member, view, now, 422, errors=errors, form={"status_reason": reason})
    members.set_blocked(session, staff, version, member, blocked, reason.strip(), now)
    session.commit()
    notice = "blocked" if blocked else "unblocked"
    return redirect(f"{frame.base}/members/{render.path_part(external_id)}", notice=notice)


@router.post("/p/{slug}/members/{external_id}/sign-in-link")
def send_sign_in_link(
    session: SessionDep,
    staff: LinkSender,
    version: ProgramDep,
    settings: SettingsDep,
    now: NowDep,
    background: BackgroundTasks,
    external_id: str,
) -> Response:
    """E-mail the member a one-time portal sign-in link, made by the portal (its limits apply); sent after commit."""
    frame = Frame(session, staff, version, "members")
    member = member_rows.get(session, version.program_id, external_id)
    language = supported(version.program.languages[0]) or DEFAULT
    found = member.email and portal.request_link(
        session, version.program_id, member.email, now, language=language, source="console"
    )
    if not found or found.id != member.id:
        session.rollback()
        view = member_view(session, version, member, now)
        errors = {"sign_in_link": members.NO_LINK if member.email else "this member has no e-mail address"}
        return members.page(frame, member, view, now, 422, errors=errors)
    members.link_sent(session, staff, version, member, now)
    session.commit()  # the mail goes out from the outbox (``portal.consumers``)
    return redirect(f"{frame.base}/members/{render.path_part(external_id)}", notice="link_sent")


@router.get("/p/{slug}/audit")
def audit_page(
    session: SessionDep,
    staff: Viewer,
    version: ProgramDep,
    staff_id: str = "",
    action: str = "",
    member: str = "",
    first: DateFrom = "",
    last: DateTo = "",
    before: int | None = None,
) -> Response:
    query = AuditQuery(staff_id, action, member, first, last)
    return audit.page(Frame(session, staff, version, "audit"), query, before)


# --- program, preview, rewards ------------------------------------------------------------------------------------


@router.get("/p/{slug}/program")
def program_page(session: SessionDep, staff: Viewer, version: ProgramDep, notice: str = "") -> Response:
    return programs.overview_page(Frame(session, staff, version, "program"), notice)


@router.get("/p/{slug}/program/versions/{number}")
def version_page(
    session: SessionDep, staff: Viewer, version: ProgramDep, number: int, against: int | None = None
) -> Response:
    return programs.version_page(Frame(session, staff, version, "program"), number, against)


@router.get("/p/{slug}/program/edit")
def edit_program_page(session: SessionDep, staff: Editor, version: ProgramDep) -> Response:
    return programs.edit_page(Frame(session, staff, version, "program"))


@router.post("/p/{slug}/program/form")
async def apply_program_form(
    request: Request, session: SessionDep, staff: Editing, version: ProgramDep, now: NowDep
) -> Response:
    """The common settings' form: its inputs are named by their paths in the program file."""
    frame = Frame(session, staff, version, "program")
    submitted = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    _, current = programs.current_file(frame)
    raw = program_form.edited(current, submitted)
    text = program_form.to_yaml(raw)
    try:
        number = programs.apply_text(session, staff, version, text, "yaml", submitted.get("note", ""), now)
    except ProgramFileInvalid as error:
        session.rollback()
        return programs.edit_page(frame, 422, raw=raw, error=error, target="form")
    session.commit()
    return redirect(f"{frame.base}/program", notice=f"applied:{number}")


@router.post("/p/{slug}/program/file")
def apply_program_file(
    session: SessionDep,
    staff: Editing,
    version: ProgramDep,
    now: NowDep,
    source_text: Annotated[str, Form(max_length=200_000)] = "",
    source_format: Annotated[str, Form(pattern="^(yaml|toml)$")] = "yaml",
    note: Note = "",
) -> Response:
    frame = Frame(session, staff, version, "program")
    try:
        number = programs.apply_text(session, staff, version, source_text, source_format, note, now)
    except ProgramFileInvalid as error:
        session.rollback()
        return programs.edit_page(frame, 422, text=source_text, error=error, target="file")
    session.commit()
    return redirect(f"{frame.base}/program", notice=f"applied:{number}")


@router.get("/p/{slug}/preview")
def preview_page(request: Request, session: SessionDep, staff: Viewer, version: ProgramDep, now: NowDep) -> Response:
    query = {key: request.query_params.getlist(key) for key in request.query_params}
    return preview.page(Frame(session, staff, version, "preview"), query, now)


@router.get("/p/{slug}/rewards")
def rewards_page(session: SessionDep, staff: Viewer, version: ProgramDep) -> Response:
    return Frame(session, staff, version, "rewards").page("rewards.html")


# --- API keys -----------------------------------------------------------------------------------------------------


@router.get("/p/{slug}/api-keys")
def api_keys_page(session: SessionDep, staff: KeyKeeper, version: ProgramDep) -> Response:
    return keys.page(Frame(session, staff, version, "keys"))


@router.post("/p/{slug}/api-keys")
def create_api_key(
    session: SessionDep,
    staff: KeyKeeping,
    version: ProgramDep,
    now: NowDep,
    scope: Annotated[Scope, Form()] = Scope.INTEGRATION,
    note: Note = "",
) -> Response:
    key = keys.create(session, staff, version, scope, note, now)
    session.commit()
    return keys.page(Frame(session, staff, version, "keys"), new_key=key)


@router.post("/p/{slug}/api-keys/{key_id}/revoke")
def revoke_api_key(
    session: SessionDep, staff: KeyKeeping, version: ProgramDep, now: NowDep, key_id: int, note: Note = ""
) -> Response:
    keys.revoke(session, staff, version, key_id, note, now)
    session.commit()
    return redirect(f"/admin/p/{version.program.slug}/api-keys")


# --- staff accounts -----------------------------------------------------------------------------------------------


@router.get("/staff")
def staff_page(session: SessionDep, staff: StaffManager, now: NowDep) -> Response:
    return staffing.staff_page(Frame(session, staff, section="staff"), now)


@router.post("/staff")
def create_staff(
    session: SessionDep,
    staff: StaffManaging,
    now: NowDep,
    email: Annotated[str, Form(max_length=320)] = "",
    role: Annotated[Role, Form()] = Role.VIEWER,
) -> Response:
    frame = Frame(session, staff, section="staff")
    try:
        account, password = staff_service.create(session, email, role, now, actor_id=staff.account.id)
    except PunchcardError as error:
        session.rollback()
        form = {"email": email, "role": role.value}
        return staffing.staff_page(frame, now, error.status, errors={"email": error.message}, form=form)
    session.commit()
    return staffing.staff_page(frame, now, secret=(account.email, password))


@router.post("/staff/{staff_id}/role")
def change_role(
    session: SessionDep, staff: StaffManaging, now: NowDep, staff_id: int, role: Annotated[Role, Form()]
) -> Response:
    staff_service.set_role(session, staff.account, staff_service.get(session, staff_id), role, now)
    session.commit()
    return redirect("/admin/staff")


@router.post("/staff/{staff_id}/status")
def change_staff_status(
    session: SessionDep, staff: StaffManaging, now: NowDep, staff_id: int, disabled: Annotated[bool, Form()] = False
) -> Response:
    staff_service.set_disabled(session, staff.account, staff_service.get(session, staff_id), disabled, now)
    session.commit()
    return redirect("/admin/staff")


@router.post("/staff/{staff_id}/password-reset")
def reset_password(session: SessionDep, staff: StaffManaging, now: NowDep, staff_id: int) -> Response:
    account = staff_service.get(session, staff_id)
    password = staff_service.reset_password(session, staff.account, account, now)
    session.commit()
    return staffing.staff_page(Frame(session, staff, section="staff"), now, secret=(account.email, password))
