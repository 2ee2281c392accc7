"""The referrals page (the review queue, decisions, the latest referrals, the funnel) and a decision on a held
referral. Deciding pays points (an approval) or withholds them, which is what adjusting points allows, so it needs
that permission."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Depends, Form
from fastapi.responses import Response

from punchcard.admin import referrals
from punchcard.admin.frame import Frame, redirect
from punchcard.admin.guard import Staff
from punchcard.admin.routes.common import DateFrom, DateTo, ProgramDep, Viewer, acting, console_router
from punchcard.kit.http import NowDep, SessionDep
from punchcard.referral.errors import ReferralNotHeld
from punchcard.staff.domain import Permission

router = console_router()

Reviewer = Annotated[Staff, Depends(acting(Permission.ADJUST_POINTS))]


@router.get("/p/{slug}/referrals")
def referrals_page(
    session: SessionDep,
    staff: Viewer,
    version: ProgramDep,
    now: NowDep,
    first: DateFrom = "",
    last: DateTo = "",
    notice: str = "",
) -> Response:
    return referrals.page(Frame(session, staff, version, "referrals"), first, last, now, notice=notice)


@router.post("/p/{slug}/referrals/{referral_id}/review")
def review_referral(
    session: SessionDep,
    staff: Reviewer,
    version: ProgramDep,
    now: NowDep,
    referral_id: int,
    decision: Annotated[Literal["approve", "reject"], Form()],
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    """Approve or reject a held referral with a reason; a decision that comes second is refused with who decided
    first (409), and changes nothing."""
    frame = Frame(session, staff, version, "referrals")
    error = referrals.reason_error(reason)
    if error is not None:
        return referrals.page(frame, "", "", now, 422, errors={referral_id: error}, typed={referral_id: reason})
    try:
        referrals.review(session, staff, version, referral_id, decision == "approve", reason.strip(), now)
    except ReferralNotHeld:
        session.rollback()
        return referrals.page(frame, "", "", now, 409, problem=referrals.conflict(session, version, referral_id))
    session.commit()
    return redirect(f"{frame.base}/referrals", notice="approved" if decision == "approve" else "rejected")
