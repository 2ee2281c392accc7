"""A program's API keys: the list, a new key (shown once, so the page answers the form instead of redirecting), and
revoking one."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form
from fastapi.responses import Response

from punchcard.admin import keys
from punchcard.admin.frame import Frame, redirect
from punchcard.admin.guard import Staff
from punchcard.admin.routes.common import Note, ProgramDep, acting, allowed, console_router
from punchcard.auth.service import Scope
from punchcard.kit.http import NowDep, SessionDep
from punchcard.staff.domain import Permission

router = console_router()

KeyKeeper = Annotated[Staff, Depends(allowed(Permission.MANAGE_API_KEYS))]
KeyKeeping = Annotated[Staff, Depends(acting(Permission.MANAGE_API_KEYS))]


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
