"""The member's coupons: the list (active, used, expired) and one coupon with its QR code."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from punchcard.kit.http import NowDep, SessionDep
from punchcard.portal import qr, views
from punchcard.portal.errors import CouponNotYours
from punchcard.portal.rendering import PageNotFound
from punchcard.portal.routes.common import VisitorDep, page, portal_router

router = portal_router()


@router.get("/coupons")
def coupons(request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep) -> Response:
    member = visitor.signed_in()
    cards = views.coupon_cards(session, visitor.version, member, now)
    sections = [
        (statuses[0], heading, [card for card in cards if card.status in statuses])
        for statuses, heading in (
            (("active",), "coupons.active"),
            (("redeemed",), "coupons.used"),
            (("expired", "revoked"), "coupons.expired"),  # a coupon taken back can no longer be used either
        )
    ]
    return page(request, visitor, "coupons.html", "coupons", sections=sections, count=len(cards))


@router.get("/coupons/{code}")
def coupon(
    request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep, code: str, new: bool = False
) -> Response:
    member = visitor.signed_in()
    try:
        card = views.coupon_card(session, visitor.version, member, code, now)
    except CouponNotYours as error:
        raise PageNotFound from error
    return page(
        request,
        visitor,
        "coupon.html",
        "coupons",
        coupon=card,
        new=new,
        benefit=views.describe_benefit(visitor.ui, card.benefit, visitor.program.currency),
        qr=qr.svg(card.code, visitor.ui.t("coupon.qr")),
    )
