"""/api/v1/members/{external_id}/referral (the member's code, link and friends) and /api/v1/referrals (the review
queue, a decision on a held referral, the funnel's figures with the revenue of referred members; admin scope: they
are the shop's business)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from punchcard.analytics import service as analytics
from punchcard.kit.errors import ValidationFailed
from punchcard.kit.http import NowDep, SessionDep
from punchcard.kit.money import format_amount, from_minor
from punchcard.kit.schemas import Moment
from punchcard.kit.schemas import Request as Body
from punchcard.kit.settings import Settings
from punchcard.member import service as members
from punchcard.member.schemas import iso
from punchcard.program.http import CallerDep, VersionDep
from punchcard.referral import service
from punchcard.referral.domain import REASON_MAX, REASON_MIN, Referrals
from punchcard.referral.errors import ReferralsNotOffered
from punchcard.referral.service import Friend, Referral

router = APIRouter(prefix="/api/v1", tags=["referrals"])


def _rule(referrals: Referrals | None) -> Referrals:
    if referrals is None:
        raise ReferralsNotOffered("this program has no referrals")
    return referrals


@router.get("/members/{external_id}/referral")
def member_referral(
    external_id: str, request: Request, session: SessionDep, version: VersionDep, now: NowDep
) -> dict[str, Any]:
    """The member's code and share link (the code is made on first asking), the friends they brought with each
    referral's status, and the points they earned by referring (``service.sharing``, as the portal shows them)."""
    rule = _rule(version.program.referrals)
    member = members.get(session, version.program_id, external_id)
    settings: Settings = request.app.state.settings
    found = service.sharing(session, version.program_id, version.program.slug, rule, member, settings.public_url, now)
    session.commit()
    return {
        "code": found.code,
        "url": found.url,
        "referred": [_friend(friend) for friend in found.friends],
        "earned": found.earned,
    }


def _friend(friend: Friend) -> dict[str, Any]:
    """A friend as their referrer sees them: a first name and initial at most, and where the referral stands."""
    return {
        "name": friend.name,
        "status": friend.status,
        "joined_at": iso(friend.joined_at),
        "qualified_at": iso(friend.qualified_at),
        "points": friend.points,
    }


@router.get("/referrals")
def list_referrals(
    session: SessionDep,
    version: VersionDep,
    caller: CallerDep,
    status: Literal["held"] = "held",
) -> dict[str, Any]:
    """The review queue: referrals held by a fraud check, oldest first, with every flag and its reason."""
    caller.require_admin()
    held = service.held(session, version.program_id)
    people = members.by_ids(session, sorted({m for r in held for m in (r.referrer_id, r.referee_id)}))
    return {"status": status, "referrals": [_shown(referral, people) for referral in held]}


def _shown(referral: Referral, people: dict[int, members.Member]) -> dict[str, Any]:
    return {
        "id": referral.id,
        "referrer": people[referral.referrer_id].external_id,
        "referee": people[referral.referee_id].external_id,
        "status": referral.status,
        "flags": referral.flags,
        "created_at": iso(referral.created_at),
        "qualified_at": iso(referral.qualified_at),
        "order_id": referral.order_id,
        "reviewed_at": iso(referral.reviewed_at),
        "reviewed_by": referral.reviewed_by,
        "review_reason": referral.review_reason,
    }


class ReviewIn(Body):
    decision: Literal["approve", "reject"]
    reason: Annotated[str, Field(min_length=REASON_MIN, max_length=REASON_MAX)]


@router.post("/referrals/{referral_id}/review")
def review_referral(
    referral_id: int, body: ReviewIn, session: SessionDep, version: VersionDep, caller: CallerDep, now: NowDep
) -> dict[str, Any]:
    """Approve or reject a held referral, with a reason (kept, and in the activity log). Approved, it pays as any
    other (at once if its friend already qualified)."""
    caller.require_admin()
    referral, _ = service.review(
        session,
        version.program_id,
        referral_id,
        approve=body.decision == "approve",
        reason=body.reason,
        staff="api",
        now=now,
    )
    people = members.by_ids(session, [referral.referrer_id, referral.referee_id])
    shown = _shown(referral, people)
    session.commit()
    return shown


@router.get("/referrals/stats")
def referral_stats(
    session: SessionDep,
    version: VersionDep,
    caller: CallerDep,
    since: Annotated[Moment, Query(alias="from")],
    until: Annotated[Moment, Query(alias="to")],
) -> dict[str, Any]:
    """The referral funnel in ``[from, to)``: codes made, friends who joined, flagged, qualified, paid, rejected,
    reversed; and ``revenue``, the value of the orders referred members placed in it (as the dashboard counts
    order value: merchandise plus shipping, before refunds)."""
    caller.require_admin()
    _check_period(since, until)
    funnel = service.counts(session, version.program_id, since, until)
    currency = version.program.currency
    value = analytics.referred_orders(session, version.program_id, since, until).value_minor
    revenue = {"amount": format_amount(from_minor(value, currency), currency), "currency": currency}
    return {"from": iso(since), "to": iso(until), **funnel, "revenue": revenue}


def _check_period(since: datetime, until: datetime) -> None:
    if until <= since:
        raise ValidationFailed("the period is empty", [{"field": "to", "message": "must be after from"}])
