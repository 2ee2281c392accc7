"""The program's pages — what is in force, its version history with the changes between versions, the rewards
catalogue, and editing — and changing the program from the console.

A change goes through exactly what ``punchcard program apply`` runs (``program.service.parse_text`` and ``apply``), so
the console accepts and refuses the same files with the same messages. The console edits the program it shows: a file
with another slug is refused here rather than quietly creating a second program.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from punchcard.admin import program_form
from punchcard.admin.frame import Frame
from punchcard.admin.guard import Staff
from punchcard.kit.errors import NotFound
from punchcard.program import service as programs
from punchcard.program.domain import ProgramVersion
from punchcard.program.errors import ProgramFileInvalid
from punchcard.program.service import ProgramVersionRow
from punchcard.staff import service as staff_service
from punchcard.staff.domain import Action


def stored(session: Session, program_id: int, number: int) -> ProgramVersionRow:
    found = programs.version(session, program_id, number)
    if found is None:
        raise NotFound(f"this program has no version {number}")
    return found


def apply_text(
    session: Session, staff: Staff, version: ProgramVersion, text: str, source_format: str, note: str, now: datetime
) -> int:
    """Validate and apply a program file as the program's next version; returns the version number."""
    program_file = programs.parse_text(text, source_format)
    slug = version.program.slug
    if program_file.slug != slug:
        message = f"must stay {slug}: the console edits this program (a new program is applied from the command line)"
        raise ProgramFileInvalid(
            f"the program file is invalid: slug: {message}", [{"field": "slug", "message": message}]
        )
    number = programs.apply(session, program_file, text, source_format, now)
    staff_service.record(
        session,
        Action.PROGRAM_APPLIED,
        now,
        staff_id=staff.account.id,
        program_id=version.program_id,
        target=f"program {slug} version {number}",
        reason=note.strip()[:500],
        details={"version": number, "previous": version.version},
    )
    return number


@dataclass(frozen=True)
class DiffLine:
    kind: str
    """``add``, ``remove``, ``hunk`` (a ``@@`` position line) or ``same``."""
    text: str


def diff(older: ProgramVersionRow, newer: ProgramVersionRow) -> list[DiffLine]:
    """A unified diff of the two versions' files as they were applied (three lines of context)."""
    return diff_texts(older.source_text, newer.source_text)


def diff_texts(older: str, newer: str) -> list[DiffLine]:
    lines = difflib.unified_diff(older.splitlines(), newer.splitlines(), lineterm="")
    found = []
    for line in lines:
        if line.startswith(("---", "+++")):
            continue
        kind = {"+": "add", "-": "remove", "@": "hunk"}.get(line[:1], "same")
        found.append(DiffLine(kind, line))
    return found


def overview_page(frame: Frame, notice: str) -> HTMLResponse:
    assert frame.version is not None
    return frame.page(
        "program.html", versions=programs.versions(frame.session, frame.version.program_id), notice=notice
    )


def version_page(frame: Frame, number: int, against: int | None, notice: str = "") -> HTMLResponse:
    """Version ``number``'s file and its changes from version ``against`` (the one before, unless chosen)."""
    assert frame.version is not None
    program_id = frame.version.program_id
    shown = stored(frame.session, program_id, number)
    compared = against if against is not None else number - 1
    older = programs.version(frame.session, program_id, compared) if compared >= 1 else None
    return frame.page(
        "version.html",
        shown=shown,
        older=older,
        diff=diff(older, shown) if older is not None else [],
        versions=programs.versions(frame.session, program_id),
        notice=notice,
    )


MEDIA_TYPES = {"yaml": "application/yaml", "toml": "application/toml"}


def file_download(frame: Frame, number: int) -> Response:
    """Version ``number``'s program file, byte for byte as applied, named ``<slug>-v<number>.<format>``."""
    assert frame.version is not None
    shown = stored(frame.session, frame.version.program_id, number)
    name = f"{frame.version.program.slug}-v{number}.{shown.source_format}"
    return Response(
        shown.source_text.encode(),
        media_type=f"{MEDIA_TYPES[shown.source_format]}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


def current_file(frame: Frame) -> tuple[ProgramVersionRow, dict[str, Any]]:
    """The version in force as stored, and its file's mapping."""
    assert frame.version is not None
    current = stored(frame.session, frame.version.program_id, frame.version.version)
    return current, program_form.load(current.source_text, current.source_format)


def edit_page(
    frame: Frame,
    status: int = 200,
    *,
    raw: dict[str, Any] | None = None,
    text: str | None = None,
    error: ProgramFileInvalid | None = None,
    target: str = "",
) -> HTMLResponse:
    """The edit page; after a refused change (``target`` says which form), the refused values stay in place and each
    error stands next to its field, or above the form when no field is its own."""
    current, current_raw = current_file(frame)
    raw = raw if raw is not None else current_raw
    details = error.details if error else []
    known = program_form.paths(raw) if target == "form" else set()
    placed: dict[str, str] = {}
    for detail in details:
        path = program_form.form_path(detail.get("field", ""), known)
        if path in known:
            placed.setdefault(path, detail["message"])
    return frame.page(
        "program_edit.html",
        status,
        sections=program_form.sections(raw),
        source_text=text if text is not None else current.source_text,
        source_format=current.source_format,
        error=error,
        target=target,
        field_errors=placed,
        other_errors=[d for d in details if program_form.form_path(d.get("field", ""), known) not in placed],
    )
