"""The member's paid membership: its plan, its status in words, its price, what was paid for the period and its perks;
without a current membership, the plans on sale and where to join (the shop's checkout: Punchcard takes no payments).

Only for a program with membership plans; for any other the page is the portal's 404. The membership is the
service's view, as the API gives it (``membership.service.view``), so time's changes (a trial or a grace that ran out)
show before the jobs write them down.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from punchcard.kit.http import NowDep, SessionDep
from punchcard.membership import service as memberships
from punchcard.portal import membership as words
from punchcard.portal.membership import MembershipCard
from punchcard.portal.rendering import PageNotFound
from punchcard.portal.routes.common import Visitor, VisitorDep, has_plans, page, portal_router

router = portal_router()


@dataclass(frozen=True)
class Standing:
    """The member's membership in words (``None``: never had one) and the plans whose trial they have had."""

    card: MembershipCard | None
    trialled: frozenset[str]


def standing(session: Session, visitor: Visitor, member_id: int, now: datetime) -> Standing:
    """The member's membership as of ``now``, worded in the visitor's language (the home page's summary too)."""
    program, ui = visitor.program, visitor.ui
    found = memberships.current(session, member_id)
    view = memberships.view(found, program.membership_terms, now, ui.language)
    card = words.membership_card(ui, program, view) if view is not None else None
    return Standing(card, found.trialled if found is not None else frozenset())


@router.get("/membership")
def membership(request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep) -> Response:
    """The membership, or (without a current one) the plans to join at the shop's checkout."""
    member = visitor.signed_in()
    if not has_plans(visitor.program):
        raise PageNotFound
    found = standing(session, visitor, member.id, now)
    is_current = found.card is not None and found.card.is_current
    return page(
        request,
        visitor,
        "membership.html",
        "membership",
        card=found.card,
        offers=None if is_current else words.offers(visitor.ui, visitor.program, found.trialled),
    )
