"""The member's wallet: their store credit (spendable, and cashback still pending) with its latest movements;
converting points to credit at the program's rate (a confirmation step, then the conversion, once per form); checking
a gift card's balance by its code, under the wallet's limit on guessing codes; and the gift cards they bought.

Every program has store credit, so every portal has the page; the conversion only a program with a rate. A refused
conversion or an unknown code is a message on the page, never an error of the API's.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from punchcard.kit.db import committed_once
from punchcard.kit.errors import PunchcardError
from punchcard.kit.http import NowDep, SessionDep
from punchcard.member.service import Member
from punchcard.portal import views
from punchcard.portal import wallet as words
from punchcard.portal.domain import valid_idempotency_key
from punchcard.portal.rendering import FormExpired
from punchcard.portal.routes.common import CsrfField, Visitor, VisitorDep, page, portal_router, require_csrf
from punchcard.portal.service import PORTAL_KEY_PREFIX
from punchcard.wallet import credit as store_credit
from punchcard.wallet import service as gift_cards
from punchcard.wallet.domain import WalletRefused
from punchcard.wallet.errors import GiftCardNotFound, LookupsLimited
from punchcard.wallet.operations import Asked

router = portal_router()

HISTORY = 20
"""How many of the credit's latest movements the page shows."""
MOST_POINTS = 1_000_000_000
"""The most points a form may ask to convert (the API's limit)."""


def prober(request: Request, member: Member) -> gift_cards.Prober:
    """Who checks a code, for the guessing limit: the member's portal (not an API key) and their browser's address."""
    key = hashlib.sha256(f"portal:{member.id}".encode()).hexdigest()
    return gift_cards.Prober(key, request.client.host if request.client else "unknown")


def whole_points(typed: str) -> int | None:
    """The points typed into the form, or ``None`` unless they are a whole number the API would take."""
    text = typed.strip()
    if not (text.isascii() and text.isdigit()) or len(text) > len(str(MOST_POINTS)):
        return None
    points = int(text)
    return points if 1 <= points <= MOST_POINTS else None


def wallet_page(
    request: Request,
    visitor: Visitor,
    session: Session,
    member: Member,
    now: datetime,
    status_code: int = 200,
    *,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> Response:
    """The wallet page, with a conversion's or a card check's outcome in ``context`` (``converted``,
    ``convert_error`` and the points ``asked``; ``card`` or ``card_error``)."""
    terms = visitor.version.wallet_terms
    ui, zone = visitor.ui, visitor.program.zone
    view = store_credit.view(session, terms, member, history=2 * HISTORY)  # cashback becoming spendable: two legs
    bought = gift_cards.bought_by(session, terms, member.id, now)
    shown: dict[str, Any] = {"converted": False, "convert_error": None, "asked": "", "card": None, "card_error": None}
    response = page(
        request,
        visitor,
        "wallet.html",
        "wallet",
        status_code,
        credit=words.store_credit(ui, view, zone, HISTORY),
        rate=words.rate(ui, terms.conversion, terms.currency) if terms.conversion is not None else None,
        available=views.points(session, visitor.version, member, now).available,
        bought=[words.gift_card(ui, card, zone) for card in bought],
        **{**shown, **context},
    )
    response.headers.update(headers or {})
    return response


@router.get("/wallet")
def wallet(
    request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep, converted: bool = False
) -> Response:
    """The store credit, the conversion's form, the gift-card check and the cards the member bought."""
    return wallet_page(request, visitor, session, visitor.signed_in(), now, converted=converted)


# --- converting points -------------------------------------------------------------------------------------------


def _refused(
    request: Request,
    visitor: Visitor,
    session: Session,
    member: Member,
    now: datetime,
    status_code: int,
    code: str,
    typed: str,
) -> Response:
    """The wallet page saying why converting the points ``typed`` was refused (the error's ``code``)."""
    conversion = visitor.version.wallet_terms.conversion
    message = words.refusal(
        visitor.ui,
        code,
        asked=whole_points(typed),
        least=words.least_points(conversion) if conversion is not None else 1,
        available=views.points(session, visitor.version, member, now).available,
    )
    return wallet_page(request, visitor, session, member, now, status_code, convert_error=message, asked=typed[:12])


@router.get("/wallet/convert")
def confirm_conversion(
    request: Request, visitor: VisitorDep, session: SessionDep, now: NowDep, points: str = ""
) -> Response:
    """The confirmation step: the points the conversion spends and the credit it gives (``Conversion.of``), what is
    left after; the form carries a fresh key. Without points asked (a language switched here), the wallet."""
    member = visitor.signed_in()
    if not points:
        return RedirectResponse(visitor.url("/wallet"), status_code=303)
    asked = whole_points(points)
    if asked is None:
        return _refused(request, visitor, session, member, now, 400, "invalid_points", points)
    terms = visitor.version.wallet_terms
    if terms.conversion is None:
        return _refused(request, visitor, session, member, now, 409, "conversion_not_offered", points)
    try:
        spent, credit_minor = terms.conversion.of(asked)
    except WalletRefused as refused:
        return _refused(request, visitor, session, member, now, 422, refused.refusal.value, points)
    available = views.points(session, visitor.version, member, now).available
    if spent > available:
        return _refused(request, visitor, session, member, now, 422, "insufficient_points", points)
    balance = Decimal(store_credit.view(session, terms, member)["balance"])
    return page(
        request,
        visitor,
        "wallet_convert.html",
        "wallet",
        quote=words.quote(visitor.ui, asked, spent, credit_minor, available, balance, terms.currency),
        key=secrets.token_urlsafe(24),
    )


@router.post("/wallet/convert")
def convert(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    now: NowDep,
    points: Annotated[str, Form(max_length=64)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
    csrf: CsrfField = "",
) -> Response:
    """Convert once per form: a double submit (same ``key``) converts nothing more and lands on the same page."""
    member = visitor.signed_in()
    require_csrf(visitor, csrf)
    if not valid_idempotency_key(key):
        raise FormExpired
    asked = whole_points(points)
    if asked is None:
        return _refused(request, visitor, session, member, now, 400, "invalid_points", points)
    terms = visitor.version.wallet_terms
    operation = Asked.of(
        "store_credit.convert", PORTAL_KEY_PREFIX + key, {"member": member.external_id, "points": asked}
    )
    try:
        committed_once(session, lambda: store_credit.convert(session, terms, member, operation, asked, now))
    except PunchcardError as error:
        session.rollback()
        return _refused(request, visitor, session, member, now, error.status, error.code, points)
    return RedirectResponse(visitor.url("/wallet?converted=1"), status_code=303)


# --- gift cards --------------------------------------------------------------------------------------------------


@router.post("/wallet/gift-card")
def check_gift_card(
    request: Request,
    visitor: VisitorDep,
    session: SessionDep,
    now: NowDep,
    code: Annotated[str, Form(max_length=100)] = "",
    csrf: CsrfField = "",
) -> Response:
    """A card's balance, status and expiry by its code. A code that matches no card counts towards the wallet's
    guessing limit (written down after the rollback, as the API does); past the limit, no lookup is made. The code
    is posted, never put in an address."""
    member = visitor.signed_in()
    require_csrf(visitor, csrf)
    ui = visitor.ui
    if not code.strip():
        return wallet_page(request, visitor, session, member, now, 400, card_error=ui.t("wallet.gift_card.empty"))
    terms = visitor.version.wallet_terms
    who = prober(request, member)
    try:
        found = gift_cards.balance(session, terms, who, code, now)
    except GiftCardNotFound:
        session.rollback()
        gift_cards.note_failure(session, terms.program_id, who, code, now)
        session.commit()
        message = ui.t("wallet.gift_card.not_found")
        return wallet_page(request, visitor, session, member, now, 404, card_error=message)
    except LookupsLimited as error:
        session.rollback()
        minutes = max(1, int(terms.gift_cards.limits.window.total_seconds()) // 60)
        message = ui.n("wallet.gift_card.limited", minutes)
        return wallet_page(request, visitor, session, member, now, 429, headers=error.headers, card_error=message)
    card = words.gift_card(ui, found, visitor.program.zone)
    return wallet_page(request, visitor, session, member, now, card=card)


@router.get("/wallet/gift-card")
def gift_card_form(visitor: VisitorDep) -> Response:
    """The check's answer is a posted page; asked for again (a language switched on it), the wallet."""
    visitor.signed_in()
    return RedirectResponse(visitor.url("/wallet"), status_code=303)
