"""Staff accounts, installation-wide: the list, a new account and a password reset (each shows a one-time password
once, so the page answers the form instead of redirecting), a role, disabling and enabling."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form
from fastapi.responses import Response

from punchcard.admin import staffing
from punchcard.admin.frame import Frame, redirect
from punchcard.admin.guard import Staff
from punchcard.admin.routes.common import acting, allowed, console_router
from punchcard.kit.errors import PunchcardError
from punchcard.kit.http import NowDep, SessionDep
from punchcard.staff import service as staff_service
from punchcard.staff.domain import Permission, Role

router = console_router()

StaffManager = Annotated[Staff, Depends(allowed(Permission.MANAGE_STAFF))]
StaffManaging = Annotated[Staff, Depends(acting(Permission.MANAGE_STAFF))]


@router.get("/staff")
def staff_page(session: SessionDep, staff: StaffManager, now: NowDep, after: str = "") -> Response:
    return staffing.staff_page(Frame(session, staff, section="staff"), now, after=after)


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
