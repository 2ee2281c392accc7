"""The member's card: their member number as a QR code and, when it can be encoded, a barcode; and the wallets they
can add it to (``routes.passes``), when the program has their credentials."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import Response

from punchcard.kit.calendar import local_date
from punchcard.kit.http import NowDep, SessionDep
from punchcard.passes import service as passes
from punchcard.portal import barcode, qr, views
from punchcard.portal.routes.common import VisitorDep, page, portal_router

router = portal_router()


@router.get("/card")
def card(request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep) -> Response:
    member = visitor.signed_in()
    number = member.external_id
    drawn = barcode.svg(number, visitor.ui.t("card.barcode")) if barcode.encodable(number) else None
    return page(
        request,
        visitor,
        "card.html",
        "card",
        qr=qr.svg(number, visitor.ui.t("card.qr")),
        barcode=drawn,
        tier=views.tier_card(session, visitor.version, member, now),
        since=local_date(member.enrolled_at, visitor.program.zone),
        wallets=passes.offered(session, visitor.version.program_id),
    )
