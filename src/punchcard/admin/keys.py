"""Creating and revoking a program's API keys from the console, each written to the audit log. A new key is shown
once, on the page that created it: only its hash is stored. The page also shows the program's webhooks, and which
ones were disabled for failing."""

from __future__ import annotations

from datetime import datetime

from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from punchcard.admin.frame import Frame
from punchcard.admin.guard import Staff
from punchcard.auth import service as auth
from punchcard.auth.service import Scope
from punchcard.kit.errors import NotFound
from punchcard.program.domain import ProgramVersion
from punchcard.staff import service as staff_service
from punchcard.staff.domain import Action
from punchcard.webhook import service as webhooks


def create(session: Session, staff: Staff, version: ProgramVersion, scope: Scope, note: str, now: datetime) -> str:
    key = auth.create_key(session, version.program_id, scope, now)
    staff_service.record(
        session,
        Action.API_KEY_CREATED,
        now,
        staff_id=staff.account.id,
        program_id=version.program_id,
        target=f"API key {key[:10]}…",
        reason=note.strip()[:500],
        details={"scope": scope.value},
    )
    return key


def revoke(session: Session, staff: Staff, version: ProgramVersion, key_id: int, note: str, now: datetime) -> None:
    key = auth.revoke_key(session, version.program_id, key_id, now)
    if key is None:
        raise NotFound("this program has no live API key with that id (it may be revoked already)")
    staff_service.record(
        session,
        Action.API_KEY_REVOKED,
        now,
        staff_id=staff.account.id,
        program_id=version.program_id,
        target=f"API key {key.prefix}…",
        reason=note.strip()[:500],
        details={"scope": key.scope},
    )


def page(frame: Frame, new_key: str = "") -> HTMLResponse:
    """The program's keys, and its webhooks with their state; ``new_key`` is one just created, shown this once."""
    assert frame.version is not None
    program_id = frame.version.program_id
    return frame.page(
        "api_keys.html",
        keys=auth.keys(frame.session, program_id),
        webhooks=webhooks.endpoints(frame.session, program_id),
        new_key=new_key,
        Scope=Scope,
    )
