"""Causes over HTTP: the program's causes with what was given to them, a member's donations (``Idempotency-Key``)
and standing gift, and a cause's settlement (admin)."""

from __future__ import annotations

from typing import Annotated, Any, Literal, Self

from fastapi import APIRouter, Header, Query
from fastapi.responses import JSONResponse, Response
from pydantic import Field, model_validator

from punchcard.cause import service
from punchcard.cause.domain import Cause, GiftKind, StandingGift, Totals
from punchcard.cause.errors import CauseNotFound
from punchcard.kit.errors import ValidationFailed
from punchcard.kit.http import NowDep, SessionDep
from punchcard.kit.idempotency import request_hash
from punchcard.kit.schemas import Moment
from punchcard.kit.schemas import Request as RequestBody
from punchcard.member import service as members
from punchcard.program.http import AskedLanguageDep, CallerDep, VersionDep

router = APIRouter(prefix="/api/v1", tags=["causes"])

Points = Annotated[int, Field(ge=1, le=100_000_000)]


class DonationIn(RequestBody):
    cause: Annotated[str, Field(min_length=1, max_length=63)]
    points: Points


class StandingGiftIn(RequestBody):
    cause: Annotated[str, Field(min_length=1, max_length=63)]
    kind: GiftKind
    value: Annotated[int, Field(ge=1, le=10_000)]
    """``round_down``: the multiple the balance is kept at (100); ``percent``: the share of every earning (1–100)."""

    @model_validator(mode="after")
    def _a_share_is_at_most_all(self) -> Self:
        if self.kind is GiftKind.PERCENT and self.value > 100:
            raise ValueError("a percentage is at most 100")
        return self


def _shown(cause: Cause, totals: Totals, currency: str, language: str) -> dict[str, Any]:
    return {
        "code": cause.code,
        "name": cause.name.in_language(language),
        "description": cause.description.in_language(language),
        "image_url": cause.image_url,
        "point_value": str(cause.point_value),
        "active": {
            "from": cause.starts_on.isoformat() if cause.starts_on else None,
            "until": cause.ends_on.isoformat() if cause.ends_on else None,
        },
        "goal": service.money(cause.goal_minor, currency) if cause.goal_minor is not None else None,
        "totals": _shown_totals(totals, currency),
    }


def _shown_totals(totals: Totals, currency: str) -> dict[str, Any]:
    return {
        "points": totals.points,
        "value": service.money(totals.value_minor, currency),
        "matched": service.money(totals.matched_minor, currency),
        "given": service.money(totals.given_minor, currency),
        "donors": totals.donors,
        "currency": currency,
    }


@router.get("/causes")
def list_causes(
    session: SessionDep,
    version: VersionDep,
    asked: AskedLanguageDep,
    since: Annotated[Moment | None, Query(alias="from")] = None,
    until: Annotated[Moment | None, Query(alias="to")] = None,
) -> dict[str, Any]:
    """The program's causes and what was given to them in ``[from, to)`` (all time without bounds)."""
    terms, language = version.cause_terms, version.program.text_language(asked)
    totals = service.totals(session, terms, since, until)
    return {"causes": [_shown(cause, totals[cause.code], terms.currency, language) for cause in terms.causes]}


def _required(key: str | None) -> str:
    if not key:
        raise ValidationFailed(
            "the Idempotency-Key header is required", [{"field": "Idempotency-Key", "message": "missing"}]
        )
    return key


@router.post("/members/{external_id}/donations", status_code=201, responses={200: {"description": "the same again"}})
def donate(
    external_id: str,
    body: DonationIn,
    session: SessionDep,
    version: VersionDep,
    now: NowDep,
    idempotency_key: Annotated[str | None, Header(max_length=255)] = None,
) -> JSONResponse:
    """Give ``points`` of the member's to ``cause``: spent soonest-expiring first, valued at the cause's
    ``point_value``, matched by the shop within its budget. The same ``Idempotency-Key`` again gives once."""
    key = _required(idempotency_key)
    member = members.get(session, version.program_id, external_id)
    digest = request_hash(body.model_dump(mode="json"))
    outcome = service.donate(
        session, version.cause_terms, member, body.cause, body.points, key=key, digest=digest, source="api", now=now
    )
    session.commit()
    return JSONResponse(outcome.body, status_code=outcome.status)


@router.get("/members/{external_id}/donations")
def member_donations(external_id: str, session: SessionDep, version: VersionDep) -> dict[str, Any]:
    """What the member gave, per cause, and their standing gift."""
    member = members.get(session, version.program_id, external_id)
    currency = version.program.currency
    given = service.member_given(session, member.id)
    gift = service.standing(session, member.id)
    return {
        "given": [
            {"cause": cause, "points": points, "value": service.money(value, currency)}
            for cause, (points, value) in sorted(given.items())
        ],
        "standing_gift": {"cause": gift.cause, "kind": gift.kind.value, "value": gift.value} if gift else None,
    }


@router.put("/members/{external_id}/standing-gift")
def set_standing_gift(
    external_id: str, body: StandingGiftIn, session: SessionDep, version: VersionDep, now: NowDep
) -> dict[str, Any]:
    """Give to ``cause`` as points are earned: keep the balance at a multiple of ``value`` (``round_down``) or give
    ``value`` per cent of each earning (``percent``)."""
    member = members.get(session, version.program_id, external_id)
    gift = service.set_standing(
        session, version.cause_terms, member, StandingGift(body.cause, body.kind, body.value), now
    )
    session.commit()
    assert gift is not None
    return {"cause": gift.cause, "kind": gift.kind.value, "value": gift.value}


@router.delete("/members/{external_id}/standing-gift", status_code=204)
def stop_standing_gift(external_id: str, session: SessionDep, version: VersionDep, now: NowDep) -> None:
    member = members.get(session, version.program_id, external_id)
    service.set_standing(session, version.cause_terms, member, None, now)
    session.commit()


@router.get("/causes/{code}/settlement")
def settlement(
    code: str,
    session: SessionDep,
    caller: CallerDep,
    version: VersionDep,
    since: Annotated[Moment | None, Query(alias="from")] = None,
    until: Annotated[Moment | None, Query(alias="to")] = None,
    format: Literal["json", "csv"] = "json",
) -> Any:
    """Every donation to the cause in ``[from, to)`` with its value and matching (admin scope): what the shop pays
    the cause. ``format=csv`` for the accountant."""
    caller.require_admin()
    terms = version.cause_terms
    if not any(cause.code == code for cause in terms.causes):
        raise CauseNotFound(f"the program has no cause {code!r}", [{"cause": code}])
    lines = service.settlement(session, terms, code, since, until)
    if format == "csv":
        return Response(service.settlement_csv(lines), media_type="text/csv; charset=utf-8")
    totals = service.totals(session, terms, since, until)[code]
    return {"cause": code, "lines": lines, "totals": _shown_totals(totals, terms.currency)}
