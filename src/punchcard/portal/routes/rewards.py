"""The rewards catalogue and redeeming a reward: a confirmation step, then the redemption, which leads to the new
coupon."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response

from punchcard.kit.errors import IdempotencyConflict, PunchcardError
from punchcard.kit.http import NowDep, SessionDep
from punchcard.member.service import Member
from punchcard.offer import http as offers
from punchcard.portal import service, views
from punchcard.portal.domain import valid_idempotency_key
from punchcard.portal.rendering import FormExpired, PageNotFound
from punchcard.portal.routes.common import CsrfField, Visitor, VisitorDep, page, portal_router, require_csrf
from punchcard.reward.errors import RewardNotFound

router = portal_router()


@router.get("/rewards")
def rewards(request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep) -> Response:
    member = visitor.signed_in()
    return page(
        request,
        visitor,
        "rewards.html",
        "rewards",
        standings=views.standings(
            session, visitor.version, member, now, offers.locks(session, visitor.version, member, now)
        ),
        available=views.points(session, visitor.version, member, now).available,
        describe=lambda benefit: views.describe_benefit(visitor.ui, benefit, visitor.program.currency),
    )


def _confirmation(
    request: Request,
    visitor: Visitor,
    session: SessionDep,
    member: Member,
    code: str,
    now: datetime,
    status_code: int = 200,
    error: str | None = None,
) -> Response:
    locks = offers.locks(session, visitor.version, member, now)
    standing = views.standing(session, visitor.version, member, code, now, locks)
    if standing is None:
        raise PageNotFound
    available = views.points(session, visitor.version, member, now).available
    return page(
        request,
        visitor,
        "redeem.html",
        "rewards",
        status_code,
        standing=standing,
        available=available,
        benefit=views.describe_benefit(visitor.ui, standing.reward.benefit, visitor.program.currency),
        key=secrets.token_urlsafe(24),
        error=error,
    )


@router.get("/rewards/{code}")
def confirm_redemption(request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep, code: str) -> Response:
    """The confirmation step: what the reward costs and what is left after; the form carries a fresh key."""
    return _confirmation(request, visitor, session, visitor.signed_in(), code, now)


@router.post("/rewards/{code}")
def redeem(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    now: NowDep,
    code: str,
    key: Annotated[str, Form()] = "",
    csrf: CsrfField = "",
) -> Response:
    """Redeem once per form: a double submit (same ``key``) returns the coupon of the first."""
    member = visitor.signed_in()
    require_csrf(visitor, csrf)
    if not valid_idempotency_key(key):
        raise FormExpired
    try:
        lock = offers.locks(session, visitor.version, member, now).get(code)
        coupon = service.redeem(session, visitor.version, member, code, key, now, lock)
    except RewardNotFound as error:
        raise PageNotFound from error
    except IdempotencyConflict:
        session.rollback()
        return _confirmation(request, visitor, session, member, code, now, 409, "redeem.conflict")
    except PunchcardError:
        session.rollback()
        return _confirmation(request, visitor, session, member, code, now, 409, "redeem.failed")
    session.commit()
    return RedirectResponse(visitor.url(f"/coupons/{coupon}?new=1"), status_code=303)
