"""/api/v1/members/{external_id}/referral (the member's code, link and friends) and /api/v1/referrals (the review
queue, a decision on a held referral, the funnel's figures; admin scope: they are the shop's business)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from pydantic import Field

from punchcard.kit.errors import ValidationFailed
from punchcard.kit.http import NowDep, SessionDep
from punchcard.kit.schemas import Moment
from punchcard.kit.schemas import Request as Body
from punchcard.kit.settings import Settings
from punchcard.member import service as members
from punchcard.member.schemas import iso
from punchcard.program.http import CallerDep, VersionDep
from punchcard.referral import service
from punchcard.referral.domain import Referrals, share_url
from punchcard.referral.errors import ReferralsNotOffered
from punchcard.referral.service import Referral

router = APIRouter(prefix="/api/v1", tags=["referrals"])


def _rule(referrals: Referrals | None) -> Referrals:
    if referrals is None:
        raise ReferralsNotOffered("this program has no referrals")
    return referrals


def invitation_url(public_url: str, slug: str, code: str) -> str:
    """The portal's invitation page for a code (the link members share unless the program names the shop's)."""
    return f"{public_url.rstrip('/')}/portal/{slug}/join?ref={code}"


@router.get("/members/{external_id}/referral")
def member_referral(
    external_id: str, request: Request, session: SessionDep, version: VersionDep, now: NowDep
) -> dict[str, Any]:
    """The member's code and share link (the code is made on first asking), the friends they brought with each
    referral's status, and the points they earned by referring."""
    rule = _rule(version.program.referrals)
    member = members.get(session, version.program_id, external_id)
    code = service.code_for(session, version.program_id, member.id, now)
    settings: Settings = request.app.state.settings
    url = share_url(rule, code, invitation_url(settings.public_url, version.program.slug, code))
    referred = service.of_referrer(session, member.id)
    friends = members.by_ids(session, [referral.referee_id for referral in referred])
    session.commit()
    return {
        "code": code,
        "url": url,
        "referred": [_friend(referral, friends[referral.referee_id].name) for referral in referred],
        "earned": sum(referral.referrer_points for referral in referred if referral.referrer_reversed_at is None),
    }


def _friend(referral: Referral, name: str | None) -> dict[str, Any]:
    """A friend as their referrer sees them: a first name and initial at most, and where the referral stands."""
    return {
        "name": _first_name_and_initial(name),
        "status": referral.status,
        "joined_at": iso(referral.created_at),
        "qualified_at": iso(referral.qualified_at),
        "points": referral.referrer_points if referral.referrer_reversed_at is None else 0,
    }


def _first_name_and_initial(name: str | None) -> str | None:
    parts = (name or "").split()
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else f"{parts[0]} {parts[-1][0]}."


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
    reason: Annotated[str, Field(min_length=3, max_length=400)]


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
    reversed."""
    caller.require_admin()
    _check_period(since, until)
    return {"from": iso(since), "to": iso(until), **service.counts(session, version.program_id, since, until)}


def _check_period(since: datetime, until: datetime) -> None:
    if until <= since:
        raise ValidationFailed("the period is empty", [{"field": "to", "message": "must be after from"}])
