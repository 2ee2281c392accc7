"""Coalitions over HTTP: a member's accounts across the coalition's brands, moving points to a partner brand, paying
a reward with a partner brand's points (each with an ``Idempotency-Key``), and the settlement between the brands
(the coalition owner's admin key)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse
from pydantic import Field

from punchcard.coalition import service
from punchcard.coalition.domain import Coalition
from punchcard.coalition.errors import NotInCoalition
from punchcard.kit.errors import ValidationFailed
from punchcard.kit.http import NowDep, SessionDep, retried_when_busy
from punchcard.kit.idempotency import request_hash
from punchcard.kit.schemas import Identifier, Moment
from punchcard.kit.schemas import Request as RequestBody
from punchcard.member import service as members
from punchcard.offer import http as offers
from punchcard.program.domain import ProgramVersion
from punchcard.program.http import CallerDep, VersionDep
from punchcard.reward import service as rewards

router = APIRouter(prefix="/api/v1", tags=["coalitions"])

Brand = Annotated[str, Field(min_length=1, max_length=63)]


class TransferIn(RequestBody):
    to: Brand
    """The partner brand (its program's slug) the points go to."""
    points: Annotated[int, Field(ge=1, le=100_000_000)]


class PaidRedemptionIn(RequestBody):
    reward: Identifier
    pay_with: Brand
    """The partner brand whose points pay for the reward."""


def _required(key: str | None) -> str:
    if not key:
        raise ValidationFailed(
            "the Idempotency-Key header is required", [{"field": "Idempotency-Key", "message": "missing"}]
        )
    return key


def _coalition_of(session: SessionDep, version: ProgramVersion) -> Coalition:
    found = service.of_program(session, version)
    if found is None:
        raise NotInCoalition("the program is in no coalition")
    return found


@router.get("/members/{external_id}/coalition")
def member_coalition(external_id: str, session: SessionDep, version: VersionDep) -> dict[str, Any]:
    """The coalition the program is in, its brands and rates, and the member's linked accounts at them (empty until
    the member links in the portal)."""
    found = _coalition_of(session, version)
    member = members.get(session, version.program_id, external_id)
    accounts = service.accounts(session, found, member.id)
    return {
        "coalition": found.code,
        "unit_value": service.money(found.unit_minor, found.currency),
        "currency": found.currency,
        "brands": [
            {"brand": brand.slug, "name": brand.name, "points_per_unit": brand.points_per_unit}
            for brand in found.brands
        ],
        "linked": bool(accounts),
        "accounts": [
            {"brand": account.brand.slug, "available": account.available, "units": account.units}
            for account in accounts
        ],
        "units": sum(account.units for account in accounts),
    }


@router.post(
    "/members/{external_id}/coalition-transfers", status_code=201, responses={200: {"description": "the same again"}}
)
@retried_when_busy
def transfer(
    external_id: str,
    body: TransferIn,
    session: SessionDep,
    version: VersionDep,
    now: NowDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JSONResponse:
    """Move the member's points to their linked account at the partner brand ``to``, at the published rates: the
    whole coalition units that ``points`` make (what is left over stays)."""
    key = _required(idempotency_key)
    found = _coalition_of(session, version)
    member = members.get(session, version.program_id, external_id)
    digest = request_hash(body.model_dump(mode="json"))
    outcome = service.transfer(session, found, member, body.to, body.points, key=key, digest=digest, now=now)
    session.commit()
    return JSONResponse(outcome.body, status_code=outcome.status)


@router.post(
    "/members/{external_id}/coalition-redemptions",
    status_code=201,
    responses={200: {"description": "the same again"}},
)
@retried_when_busy
def redeem_with_partner_points(
    external_id: str,
    body: PaidRedemptionIn,
    session: SessionDep,
    version: VersionDep,
    now: NowDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JSONResponse:
    """Redeem one of this program's rewards with the member's points at the partner brand ``pay_with``: the whole
    units that cover its cost move over, then the reward is redeemed as ``POST .../redemptions`` would. Either all of
    it happens or none."""
    key = _required(idempotency_key)
    found = _coalition_of(session, version)
    member = members.get(session, version.program_id, external_id)
    program = version.program
    catalogue = rewards.Catalogue(version.program_id, version.version, program.rewards, program.tiers, program.zone)
    reward = catalogue.reward(body.reward)
    lock = offers.locks(session, version, member, now).get(body.reward)
    digest = request_hash(body.model_dump(mode="json"))

    def redeem() -> dict[str, Any]:
        return rewards.redeem(session, catalogue, member, body.reward, key, digest, now, lock).body

    outcome = service.pay_reward(
        session, found, member, body.pay_with, reward.points_cost, redeem, key=key, digest=digest, now=now
    )
    session.commit()
    return JSONResponse(outcome.body, status_code=outcome.status)


@router.get("/coalitions/{code}/settlement")
def settlement(
    code: str,
    session: SessionDep,
    caller: CallerDep,
    since: Annotated[Moment | None, Query(alias="from")] = None,
    until: Annotated[Moment | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """What moved between the coalition's brands in ``[from, to)``, per direction, and netted per pair what each
    brand owes another in the coalition's currency. Only the coalition owner's admin key reads it."""
    caller.require_admin()
    found = service.coalition(session, code)
    service.require_owner(found, caller.program_id)
    return service.settlement_body(service.settlement(session, found, since, until), since, until)
