"""The gift cards and store credit page (the money liability, the gift cards, one card with its ledger history) and
disabling a card. Disabling stops a card's money as blocking stops a member's events, so it needs the permission to
block members (owner, support); reading needs none beyond signing in."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import Response

from punchcard.admin import wallet
from punchcard.admin.frame import Frame, redirect
from punchcard.admin.guard import Staff
from punchcard.admin.routes.common import Note, ProgramDep, Viewer, acting, console_router
from punchcard.kit.http import NowDep, SessionDep
from punchcard.staff.domain import Permission

router = console_router()

Disabler = Annotated[Staff, Depends(acting(Permission.BLOCK_MEMBERS))]


@router.get("/p/{slug}/wallet")
def wallet_page(
    session: SessionDep,
    staff: Viewer,
    version: ProgramDep,
    now: NowDep,
    q: Annotated[str, Query(max_length=40)] = "",
    before: int | None = None,
) -> Response:
    return wallet.page(Frame(session, staff, version, "wallet"), now, q, before)


@router.get("/p/{slug}/wallet/cards/{card_id}")
def gift_card_page(
    session: SessionDep, staff: Viewer, version: ProgramDep, now: NowDep, card_id: int, notice: str = ""
) -> Response:
    return wallet.card_page(Frame(session, staff, version, "wallet"), card_id, now, notice=notice)


@router.post("/p/{slug}/wallet/cards/{card_id}/disable")
def disable_gift_card(
    session: SessionDep, staff: Disabler, version: ProgramDep, now: NowDep, card_id: int, reason: Note = ""
) -> Response:
    """Disable the card with a reason (kept with the card and in the audit log); a card disabled already stays as it
    was, and the answer says so."""
    frame = Frame(session, staff, version, "wallet")
    error = wallet.reason_error(reason)
    if error is not None:
        return wallet.card_page(frame, card_id, now, 422, errors={"reason": error}, form={"reason": reason})
    changed = wallet.disable(session, staff, version, card_id, reason.strip(), now)
    session.commit()
    return redirect(f"{frame.base}/wallet/cards/{card_id}", notice="disabled" if changed else "already_disabled")
