"""The program's member e-mails: which are sent, and their words (saved, previewed, or sent as a test)."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from punchcard.admin import emails
from punchcard.admin.frame import Frame, redirect
from punchcard.admin.routes.common import ProgramDep, SettingsDep, Viewer, console_router
from punchcard.admin.routes.program import Editing
from punchcard.kit.http import NowDep, SessionDep
from punchcard.mail.sender import MailNotSent
from punchcard.mailing import service as mailing
from punchcard.mailing.domain import MailKind

router = console_router()


@router.get("/p/{slug}/emails")
def emails_page(session: SessionDep, staff: Viewer, version: ProgramDep, notice: str = "") -> Response:
    return emails.overview_page(Frame(session, staff, version, "emails"), notice)


@router.get("/p/{slug}/emails/{kind}")
def email_page(
    session: SessionDep, staff: Viewer, version: ProgramDep, kind: MailKind, settings: SettingsDep, now: NowDep
) -> Response:
    return emails.edit_page(Frame(session, staff, version, "emails"), kind, settings, now)


@router.post("/p/{slug}/emails/{kind}")
async def save_email(
    request: Request,
    session: SessionDep,
    staff: Editing,
    version: ProgramDep,
    kind: MailKind,
    settings: SettingsDep,
    now: NowDep,
) -> Response:
    """Save the words (``action=save``), or send what is typed as a test to the staff member (``action=test``)."""
    frame = Frame(session, staff, version, "emails")
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    given, enabled = emails.submitted_words(frame, form), form.get("enabled") == "on"
    if form.get("action") == "test":
        language = form.get("test_language", "")
        problems = [p for p in mailing.save_check(kind, given) if p["field"].startswith(f"{language}.")]
        if not problems and language in given:
            try:
                mailing.send_test(version.program, kind, language, given[language], settings, staff.account.email, now)
            except MailNotSent as error:
                problems = [{"field": f"{language}.body", "message": f"the test was not sent: {error}"}]
        notice = "" if problems else f"A test in {language} was sent to {staff.account.email}."
        return emails.edit_page(
            frame,
            kind,
            settings,
            now,
            given=given,
            enabled=enabled,
            errors=problems,
            notice=notice,
            status=422 if problems else 200,
        )
    problems = emails.save(frame, kind, given, enabled, form.get("note", ""), now)
    if problems:
        return emails.edit_page(frame, kind, settings, now, given=given, enabled=enabled, errors=problems, status=422)
    session.commit()
    return redirect(f"{frame.base}/emails", notice=f"saved:{kind.value}")
