"""The program editor: the lists, an item's form, the review of a change, and saving it as a new version.

Every step that changes something posts the version it was made from (``base``); a step made from an older version
is refused (409) before anything is read from the form, since its indexes may name other items now.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Form, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from punchcard.admin import draft, editor, item_form, programs
from punchcard.admin.catalogue_form import tier_settings_form
from punchcard.admin.draft import Change, Kind
from punchcard.admin.editor import Proposal, Refusal
from punchcard.admin.frame import Frame, redirect
from punchcard.admin.item_form import ItemForm, Submitted
from punchcard.admin.routes.common import Note, ProgramDep, console_router
from punchcard.admin.routes.program import Editing, Editor
from punchcard.kit.http import NowDep, SessionDep
from punchcard.program.errors import ProgramFileInvalid

router = console_router()

Step = Literal["up", "down", "switch", "remove"]
SourceText = Annotated[str, Form(max_length=200_000)]
Base = Annotated[str, Form()]


async def _submitted(request: Request) -> Submitted:
    form: FormData = await request.form()
    return {key: [value for value in form.getlist(key) if isinstance(value, str)] for key in form}


def _reviewed(
    frame: Frame,
    submitted: Submitted,
    form: ItemForm,
    keep: dict[str, Any],
    change: Callable[[dict[str, Any], dict[str, Any]], Change],
    refused: Callable[[Refusal], Response],
    now: datetime,
) -> Response:
    """A form's change on to its review, or back to the form with the refusal's errors by their inputs."""
    editor.check_base(frame, item_form.first(submitted, "base"))
    _, raw = programs.current_file(frame)
    made = change(raw, item_form.read(form, submitted, editor.languages(frame), keep=keep))
    try:
        proposal = Proposal.checked(frame, made)
    except ProgramFileInvalid as error:
        return refused(Refusal(submitted, error, made.path))
    return editor.review_page(frame, proposal, now)


@router.get("/p/{slug}/program/editor")
def editor_page(session: SessionDep, staff: Editor, version: ProgramDep) -> Response:
    return editor.overview_page(Frame(session, staff, version, "program"))


@router.get("/p/{slug}/program/editor/tiers/settings")
def tier_settings_page(session: SessionDep, staff: Editor, version: ProgramDep) -> Response:
    return editor.settings_page(Frame(session, staff, version, "program"))


@router.post("/p/{slug}/program/editor/tiers/settings")
async def change_tier_settings(
    request: Request, session: SessionDep, staff: Editing, version: ProgramDep, now: NowDep
) -> Response:
    frame = Frame(session, staff, version, "program")
    return _reviewed(
        frame,
        await _submitted(request),
        tier_settings_form(),
        {},
        draft.tier_settings,
        lambda refusal: editor.settings_page(frame, 422, refusal),
        now,
    )


@router.get("/p/{slug}/program/editor/{kind}/new")
def new_item_page(session: SessionDep, staff: Editor, version: ProgramDep, kind: Kind) -> Response:
    return editor.item_page(Frame(session, staff, version, "program"), kind, None)


@router.get("/p/{slug}/program/editor/{kind}/{index}")
def item_page(session: SessionDep, staff: Editor, version: ProgramDep, kind: Kind, index: int) -> Response:
    return editor.item_page(Frame(session, staff, version, "program"), kind, index)


async def _put(request: Request, frame: Frame, kind: Kind, index: int | None, now: datetime) -> Response:
    """An item's form: on to the review of the change, or refused with its errors by their inputs."""
    submitted = await _submitted(request)
    editor.check_base(frame, item_form.first(submitted, "base"))
    _, raw = programs.current_file(frame)
    keep = editor.item_at(raw, kind, index) if index is not None else {}
    return _reviewed(
        frame,
        submitted,
        editor.form_for(frame, raw, kind, index is None),
        keep,
        lambda current, item: draft.put(current, kind, index, item),
        lambda refusal: editor.item_page(frame, kind, index, 422, refusal),
        now,
    )


@router.post("/p/{slug}/program/editor/{kind}/new")
async def add_item(
    request: Request, session: SessionDep, staff: Editing, version: ProgramDep, kind: Kind, now: NowDep
) -> Response:
    return await _put(request, Frame(session, staff, version, "program"), kind, None, now)


@router.post("/p/{slug}/program/editor/{kind}/{index}")
async def change_item(
    request: Request, session: SessionDep, staff: Editing, version: ProgramDep, kind: Kind, index: int, now: NowDep
) -> Response:
    return await _put(request, Frame(session, staff, version, "program"), kind, index, now)


@router.post("/p/{slug}/program/editor/{kind}/{index}/{step}")
def step_item(
    session: SessionDep,
    staff: Editing,
    version: ProgramDep,
    kind: Kind,
    index: int,
    step: Step,
    now: NowDep,
    base: Base = "",
) -> Response:
    """Move, switch off or on, or remove an item: straight to the review (or back to the lists if it is refused)."""
    frame = Frame(session, staff, version, "program")
    editor.check_base(frame, base)
    _, raw = programs.current_file(frame)
    editor.item_at(raw, kind, index)
    change: Change
    if step in ("up", "down"):
        change = draft.move(raw, kind, index, -1 if step == "up" else 1)
    elif step == "switch":
        change = draft.switch(raw, kind, index)
    else:
        change = draft.remove(raw, kind, index)
    try:
        proposal = Proposal.checked(frame, change)
    except ProgramFileInvalid as error:
        return editor.overview_page(frame, 422, error)
    return editor.review_page(frame, proposal, now)


@router.post("/p/{slug}/program/editor/review")
async def review_again(
    request: Request, session: SessionDep, staff: Editing, version: ProgramDep, now: NowDep
) -> Response:
    """The review with another basket: the change travels in the form, and is validated again."""
    frame = Frame(session, staff, version, "program")
    submitted = await _submitted(request)
    editor.check_base(frame, item_form.first(submitted, "base"))
    text, summary = item_form.first(submitted, "source_text"), item_form.first(submitted, "summary")
    try:
        proposal = Proposal.of_text(frame, text, summary)
    except ProgramFileInvalid as error:
        return editor.overview_page(frame, 422, error)
    return editor.review_page(frame, proposal, now, submitted)


@router.post("/p/{slug}/program/editor/save")
def save_change(
    session: SessionDep,
    staff: Editing,
    version: ProgramDep,
    now: NowDep,
    source_text: SourceText = "",
    base: Base = "",
    note: Note = "",
) -> Response:
    """Apply the reviewed file as the next version; the version's page then shows what changed."""
    frame = Frame(session, staff, version, "program")
    editor.check_base(frame, base)
    try:
        number = programs.apply_text(session, staff, version, source_text, "yaml", note, now)
    except ProgramFileInvalid as error:
        session.rollback()
        return editor.overview_page(frame, 422, error)
    session.commit()
    return redirect(f"{frame.base}/program/versions/{number}", notice="saved")
