"""The console's member e-mails: which mails the program sends, and their words in each of its languages, edited
with a preview in every language and a test sent to the staff member, checked as the sender will use them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from fastapi.responses import HTMLResponse

from punchcard.admin.frame import Frame
from punchcard.i18n.catalogue import supported
from punchcard.kit.settings import Settings
from punchcard.mailing import service as mailing
from punchcard.mailing.domain import PLACEHOLDERS, TRANSACTIONAL, MailKind
from punchcard.mailing.templates import Rendered, Words
from punchcard.staff import service as staff_service
from punchcard.staff.domain import Action


def languages(frame: Frame) -> list[str]:
    """The program's languages we have mail words for (the others' members read the first of these)."""
    assert frame.version is not None
    return [language for language in frame.version.program.languages if supported(language) == language]


def overview_page(frame: Frame, notice: str = "") -> HTMLResponse:
    assert frame.version is not None
    return frame.page("emails.html", kinds=mailing.overview(frame.session, frame.version.program_id), notice=notice)


def submitted_words(frame: Frame, form: Mapping[str, str]) -> dict[str, Words]:
    return {
        language: Words(form.get(f"{language}.subject", "").strip(), form.get(f"{language}.body", "").strip())
        for language in languages(frame)
    }


def save(
    frame: Frame, kind: MailKind, given: dict[str, Words], enabled: bool, note: str, now: datetime
) -> list[dict[str, str]]:
    """Keep the marketer's words and switch, with a note in the audit log; the problems instead, nothing kept."""
    assert frame.version is not None
    problems = mailing.save(frame.session, frame.version.program_id, kind, given, enabled, now)
    if not problems:
        staff_service.record(
            frame.session,
            Action.MAIL_CHANGED,
            now,
            staff_id=frame.staff.account.id,
            program_id=frame.version.program_id,
            target=f"e-mail {kind.value}",
            reason=note.strip()[:500],
            details={"kind": kind.value, "enabled": enabled},
        )
    return problems


def edit_page(
    frame: Frame,
    kind: MailKind,
    settings: Settings,
    now: datetime,
    *,
    given: dict[str, Words] | None = None,
    enabled: bool | None = None,
    errors: list[dict[str, str]] | None = None,
    notice: str = "",
    status: int = 200,
) -> HTMLResponse:
    """One mail's words in every language, each with its preview (of what is typed, once it is valid)."""
    assert frame.version is not None
    program, program_id = frame.version.program, frame.version.program_id
    words = given or {
        language: mailing.words(frame.session, program_id, kind, language) for language in languages(frame)
    }
    state = next(item for item in mailing.overview(frame.session, program_id) if item.kind is kind)
    placed = {error["field"]: error["message"] for error in errors or []}
    previews: dict[str, Rendered | None] = {
        language: None
        if any(field.startswith(f"{language}.") for field in placed)
        else mailing.preview(program, kind, language, text, settings, now)
        for language, text in words.items()
    }
    return frame.page(
        "email_edit.html",
        status,
        kind=kind,
        words=words,
        enabled=state.enabled if enabled is None else enabled,
        marketing=kind not in TRANSACTIONAL,
        placeholders=PLACEHOLDERS[kind],
        previews=previews,
        field_errors=placed,
        notice=notice,
    )
