"""The members' pages (search, one member) and what staff do to a member: adjust points, grant store credit, block and
unblock, send a portal sign-in link; each needs its own permission (a grant, that of adjusting points)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Form
from fastapi.responses import Response

from punchcard.admin import forms, members, render, wallet
from punchcard.admin.frame import Frame, redirect
from punchcard.admin.guard import Staff
from punchcard.admin.routes.common import Note, ProgramDep, SignInLinksDep, Viewer, acting, console_router
from punchcard.i18n.catalogue import DEFAULT, supported
from punchcard.kit.errors import PunchcardError
from punchcard.kit.http import NowDep, SessionDep
from punchcard.member import service as member_service
from punchcard.member.http import member_view
from punchcard.staff.domain import Permission

router = console_router()

Adjuster = Annotated[Staff, Depends(acting(Permission.ADJUST_POINTS))]
Blocker = Annotated[Staff, Depends(acting(Permission.BLOCK_MEMBERS))]
LinkSender = Annotated[Staff, Depends(acting(Permission.SEND_SIGN_IN_LINK))]


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
    member = member_service.get(session, version.program_id, external_id)
    view = member_view(session, version, member, now, version.program.language)
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
    member = member_service.get(session, version.program_id, external_id)
    adjustment, errors = forms.adjustment(points, reason)
    if adjustment is not None:
        try:
            members.adjust(session, staff, version, member, adjustment, form_key, now)
        except PunchcardError as error:
            session.rollback()
            errors = {"points": error.message}
    if errors:
        view = member_view(session, version, member, now, version.program.language)
        form = {"points": points, "reason": reason}
        return members.page(frame, member, view, now, 422, errors=errors, form=form)
    session.commit()
    return redirect(f"{frame.base}/members/{render.path_part(external_id)}", notice="adjusted")


@router.post("/p/{slug}/members/{external_id}/store-credit/grants")
def grant_store_credit(
    session: SessionDep,
    staff: Adjuster,
    version: ProgramDep,
    now: NowDep,
    external_id: str,
    amount: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
    form_key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Give the member store credit with a reason: money, as an adjustment is points, so the same permission; once per
    form, however often it is sent."""
    frame = Frame(session, staff, version, "members")
    member = member_service.get(session, version.program_id, external_id)
    given, errors = forms.credit_grant(amount, reason, version.program.currency)
    if given is not None:
        try:
            wallet.grant(session, staff, version, member, given, form_key, now)
        except PunchcardError as error:
            session.rollback()
            errors = {"credit_amount": error.message}
    if errors:
        view = member_view(session, version, member, now, version.program.language)
        form = {"credit_amount": amount, "credit_reason": reason}
        return members.page(frame, member, view, now, 422, errors=errors, form=form)
    session.commit()
    return redirect(f"{frame.base}/members/{render.path_part(external_id)}", notice="credit_granted")


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
    member = member_service.get(session, version.program_id, external_id)
    if len(reason.strip()) < 3:
        errors = {"status_reason": "say why, in at least 3 characters (it goes to the audit log)"}
        view = member_view(session, version, member, now, version.program.language)
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
    links: SignInLinksDep,
    now: NowDep,
    external_id: str,
) -> Response:
    """E-mail the member a one-time portal sign-in link, made by the portal (its limits apply); sent after commit."""
    frame = Frame(session, staff, version, "members")
    member = member_service.get(session, version.program_id, external_id)
    language = supported(member.language) or supported(version.program.language) or DEFAULT  # the member's own
    found = member.email and links(session, version.program_id, member.email, now, language=language, source="console")
    if not found or found.id != member.id:
        session.rollback()
        view = member_view(session, version, member, now, version.program.language)
        errors = {"sign_in_link": members.NO_LINK if member.email else "this member has no e-mail address"}
        return members.page(frame, member, view, now, 422, errors=errors)
    members.link_sent(session, staff, version, member, now)
    session.commit()  # the mail goes out from the outbox (``portal.consumers``)
    return redirect(f"{frame.base}/members/{render.path_part(external_id)}", notice="link_sent")
