"""/api/v1/rewards (the catalogue) and /api/v1/members/{id}/redemptions."""

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse

from punchcard.coupon.service import benefit_shown
from punchcard.kit.errors import ValidationFailed
from punchcard.kit.http import NowDep, SessionDep, retried_when_busy
from punchcard.kit.idempotency import request_hash
from punchcard.ledger import service as ledger
from punchcard.member import service as members
from punchcard.member.schemas import RedemptionIn, iso
from punchcard.offer import http as offers
from punchcard.program.http import AskedLanguageDep, VersionDep
from punchcard.reward import service
from punchcard.reward.domain import Reward

router = APIRouter(prefix="/api/v1", tags=["rewards"])


def _reward(reward: Reward, language: str) -> dict[str, Any]:
    """A reward as the API shows it, its texts in ``language``."""
    return {
        "code": reward.code,
        "name": reward.name.in_language(language),
        "description": reward.description.in_language(language),
        "points_cost": reward.points_cost,
        "benefit": benefit_shown(reward.benefit, language),
        "min_tier": reward.min_tier,
        "limit_per_member": reward.limit_per_member,
        "coupon_valid_days": reward.coupon_valid_days,
        "available_from": iso(reward.available_from),
        "available_until": iso(reward.available_until),
    }


@router.get("/rewards")
def catalogue(
    session: SessionDep,
    version: VersionDep,
    asked: AskedLanguageDep,
    now: NowDep,
    member: Annotated[str | None, Query(description="a member's external_id: adds whether they can redeem")] = None,
) -> dict[str, Any]:
    """The rewards catalogue; with ``?member=`` each reward says whether that member can redeem it now, or why not.
    Names and descriptions are in the language asked for (``?lang=``, ``Accept-Language``), else the member's."""
    found = members.get(session, version.program_id, member) if member is not None else None
    language = version.program.text_language(asked, found.language if found else None)
    offered = version.program.offered
    items = [_reward(reward, language) for reward in offered]
    if found is not None:
        available = ledger.balances(session, found.id).available
        locks = offers.locks(session, version, found, now)
        for item, reward in zip(items, offered, strict=True):
            lock = locks.get(reward.code)
            blocked_by = service.obstacle_for(session, version.program.tiers, found, reward, now, available, lock)
            item["redeemable"] = blocked_by is None
            item["obstacle"] = blocked_by.value if blocked_by else None
            item["locked_reason"] = lock.reason if lock else None
    return {"items": items}


@router.post("/members/{external_id}/redemptions", status_code=201)
@retried_when_busy
def redeem_reward(
    external_id: str,
    body: RedemptionIn,
    session: SessionDep,
    version: VersionDep,
    now: NowDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JSONResponse:
    """Spend points on a reward and get its coupon. The ``Idempotency-Key`` header is required: a retried
    redemption must never spend twice."""
    if not idempotency_key:
        raise ValidationFailed(
            "the Idempotency-Key header is required", [{"field": "Idempotency-Key", "message": "missing"}]
        )
    member = members.get(session, version.program_id, external_id)
    program = version.program
    catalogue = service.Catalogue(version.program_id, version.version, program.rewards, program.tiers, program.zone)
    lock = offers.locks(session, version, member, now).get(body.reward)
    digest = request_hash(body.model_dump(mode="json"))
    outcome = service.redeem(session, catalogue, member, body.reward, idempotency_key, digest, now, lock)
    session.commit()
    return JSONResponse(outcome.body, status_code=outcome.status)
