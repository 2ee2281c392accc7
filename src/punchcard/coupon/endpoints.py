"""/api/v1/coupons: validate against an order, redeem for an order, release after a cancellation."""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from punchcard.coupon import service
from punchcard.coupon.errors import CouponNotFound
from punchcard.coupon.models import Coupon, CouponUse
from punchcard.coupon.schemas import OrderRef, ValidateIn
from punchcard.kit.http import NowDep, SessionDep
from punchcard.kit.money import format_amount
from punchcard.member import service as members
from punchcard.member.schemas import iso
from punchcard.program.http import AskedLanguageDep, VersionDep

router = APIRouter(prefix="/api/v1", tags=["coupons"])


def coupon_view(coupon: Coupon, use: CouponUse | None, now: Any, language: str) -> dict[str, Any]:
    """A coupon as the API shows it, the free product's name (if any) in ``language``."""
    return {
        "code": coupon.code,
        "reward": coupon.reward_code,
        "benefit": service.benefit_shown(service.benefit_from_json(coupon.benefit), language),
        "issued_at": iso(coupon.issued_at),
        "expires_at": iso(coupon.expires_at),
        "status": service.status(coupon, use, now),
        "redeemed_by_order": use.order_id if use else None,
        "redeemed_at": iso(use.redeemed_at) if use else None,
    }


@router.post("/coupons/validate")
def validate_coupon(
    body: ValidateIn, session: SessionDep, version: VersionDep, asked: AskedLanguageDep, now: NowDep
) -> dict[str, Any]:
    """Would this coupon apply to this order, and what discount would it give? Changes nothing."""
    try:
        coupon = service.get(session, version.program_id, body.code)
    except CouponNotFound:
        return {"valid": False, "reason": "coupon_not_found"}
    if body.member_external_id is not None:
        owner = members.by_id(session, version.program_id, coupon.member_id)
        if owner is None or owner.external_id != body.member_external_id:
            return {"valid": False, "reason": "coupon_of_another_member"}
    verdict = service.validate(
        session, coupon, body.order.to_domain(), currency=version.program.currency, order_id=body.order.id, now=now
    )
    if not verdict.is_valid:
        return {"valid": False, "reason": verdict.refusal.value if verdict.refusal else None}
    currency = version.program.currency
    return {
        "valid": True,
        "discount": {"amount": format_amount(verdict.discount, currency), "currency": currency},
        "coupon": coupon_view(coupon, None, now, version.program.text_language(asked)),
    }


@router.get("/coupons/{code}")
def read_coupon(
    code: str, session: SessionDep, version: VersionDep, asked: AskedLanguageDep, now: NowDep
) -> dict[str, Any]:
    coupon = service.get(session, version.program_id, code)
    return coupon_view(coupon, service.active_use(session, coupon.id), now, version.program.text_language(asked))


@router.post("/coupons/{code}/redemptions", status_code=201)
def redeem_coupon(
    code: str, body: OrderRef, session: SessionDep, version: VersionDep, asked: AskedLanguageDep, now: NowDep
) -> JSONResponse:
    """Use the coupon for ``order_id``: 201 the first time, 200 for a retry with the same order."""
    coupon = service.get(session, version.program_id, code, lock=True)
    use, is_new = service.redeem(session, coupon, body.order_id, now)
    view = coupon_view(coupon, use, now, version.program.text_language(asked))
    session.commit()
    return JSONResponse(view, status_code=201 if is_new else 200)


@router.post("/coupons/{code}/release")
def release_coupon(
    code: str, body: OrderRef, session: SessionDep, version: VersionDep, asked: AskedLanguageDep, now: NowDep
) -> dict[str, Any]:
    """The order was cancelled: the coupon can be used again (until it expires)."""
    coupon = service.get(session, version.program_id, code, lock=True)
    service.release(session, coupon, body.order_id, now)
    view = coupon_view(coupon, None, now, version.program.text_language(asked))
    session.commit()
    return view


@router.get("/members/{external_id}/coupons")
def member_coupons(
    external_id: str, session: SessionDep, version: VersionDep, asked: AskedLanguageDep, now: NowDep
) -> dict[str, Any]:
    member = members.get(session, version.program_id, external_id)
    language = version.program.text_language(asked, member.language)
    return {"items": [coupon_view(coupon, use, now, language) for coupon, use in service.of_member(session, member.id)]}
