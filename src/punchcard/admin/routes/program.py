"""A program's file: its current version and past ones, editing it (by form or as a whole file), the preview, and
the rewards page."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form, Request
from fastapi.responses import Response

from punchcard.admin import preview, program_form, programs
from punchcard.admin.frame import Frame, redirect
from punchcard.admin.guard import Staff
from punchcard.admin.routes.common import Note, ProgramDep, Viewer, acting, allowed, console_router
from punchcard.kit.http import NowDep, SessionDep
from punchcard.program.errors import ProgramFileInvalid
from punchcard.staff.domain import Permission

router = console_router()

Editor = Annotated[Staff, Depends(allowed(Permission.EDIT_PROGRAM))]
Editing = Annotated[Staff, Depends(acting(Permission.EDIT_PROGRAM))]


@router.get("/p/{slug}/program")
def program_page(session: SessionDep, staff: Viewer, version: ProgramDep, notice: str = "") -> Response:
    return programs.overview_page(Frame(session, staff, version, "program"), notice)


@router.get("/p/{slug}/program/versions/{number}")
def version_page(
    session: SessionDep, staff: Viewer, version: ProgramDep, number: int, against: int | None = None, notice: str = ""
) -> Response:
    return programs.version_page(Frame(session, staff, version, "program"), number, against, notice)


@router.get("/p/{slug}/program/versions/{number}/file")
def version_file(session: SessionDep, staff: Viewer, version: ProgramDep, number: int) -> Response:
    """Version ``number``'s file as it was applied, to download: a program edited in the console goes back to git."""
    return programs.file_download(Frame(session, staff, version, "program"), number)


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
