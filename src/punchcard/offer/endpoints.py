"""/api/v1/offers: the program's member-only offers; with ``?member=`` whether that member can take each now, and
if not why (``locked_reason``)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from punchcard.kit.http import NowDep, SessionDep
from punchcard.ledger import service as ledger
from punchcard.member import service as members
from punchcard.member.schemas import iso
from punchcard.member.service import Member
from punchcard.offer import http as offers
from punchcard.offer.domain import Offer, Standing, Target
from punchcard.program.domain import Program
from punchcard.program.http import AskedLanguageDep, VersionDep
from punchcard.reward import service as rewards

router = APIRouter(prefix="/api/v1", tags=["offers"])


def _offer(offer: Offer, language: str) -> dict[str, Any]:
    early = offer.early_access
    return {
        "code": offer.code,
        "name": offer.name.in_language(language),
        "description": offer.description.in_language(language),
        "kind": offer.target.value,
        offer.target.value: offer.target_code,
        "audience": {
            "tiers": sorted(offer.audience.tiers),
            "segments": sorted(offer.audience.segments),
            "plans": sorted(offer.audience.plans),
        },
        "starts_at": iso(offer.starts_at),
        "ends_at": iso(offer.ends_at),
        "early_access": {"tiers": sorted(early.tiers), "hours": early.hours} if early else None,
    }


@router.get("/offers")
def list_offers(
    session: SessionDep,
    version: VersionDep,
    asked: AskedLanguageDep,
    now: NowDep,
    member: Annotated[str | None, Query(description="a member's external_id: their offers, open or locked")] = None,
) -> dict[str, Any]:
    """The program's offers. With ``?member=``, only those shown to that member (not those a segment keeps them
    out of, nor ended ones), each with ``available``, ``locked_reason`` (``tier_required``, ``plan_required``,
    ``not_started``, or for a reward the redemption's own obstacle, e.g. ``insufficient_points``) and ``opens_at``
    (for them)."""
    program = version.program
    if member is None:
        language = program.text_language(asked)
        return {"items": [_offer(offer, language) for offer in program.offers]}
    found = members.get(session, version.program_id, member)
    language = program.text_language(asked, found.language)
    available = ledger.balances(session, found.id).available
    items = []
    for standing in offers.standings(session, version, found, now):
        if not standing.listed:
            continue
        reason = (
            standing.locked.value
            if standing.locked
            else _reward_obstacle(session, program, found, standing, now, available)
        )
        items.append(
            _offer(standing.offer, language)
            | {"available": reason is None, "locked_reason": reason, "opens_at": iso(standing.opens_at)}
        )
    return {"items": items}


def _reward_obstacle(
    session: Session, program: Program, member: Member, standing: Standing, now: datetime, available: int
) -> str | None:
    """What keeps the member from an open offer's reward (points, its limit, the reward's own dates), if anything."""
    reward = program.reward(standing.offer.target_code) if standing.offer.target is Target.REWARD else None
    if reward is None:
        return None
    blocked_by = rewards.obstacle_for(session, program.tiers, member, reward, now, available)
    return blocked_by.value if blocked_by else None
