"""The gift cards and store credit page — the program's money liability (outstanding on gift cards, in store credit and
in pending cashback; issued, redeemed, taken back and expired this month and in all), its gift cards newest first,
found by the last four symbols of their code, and one card with its ledger history — and what staff do with money:
disable a gift card and grant a member store credit, each with a reason, each written to the audit log in the same
transaction (``wallet.figures`` says how each figure is summed from the ledger).

Disabling is ``wallet.service.disable_card`` under the card's row lock, as the API does it: a card disabled already
stays as it was, and nothing more is written. A grant is ``wallet.credit.grant``, exactly the API's (the member's row
lock, once per key); its form carries a one-time key, so a double click or a resent form grants once.
"""

from __future__ import annotations

import re
from datetime import datetime

from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from punchcard.admin.forms import CreditGrant
from punchcard.admin.frame import Frame
from punchcard.admin.guard import Staff
from punchcard.kit.errors import IdempotencyConflict, ValidationFailed
from punchcard.member.service import Member
from punchcard.program.domain import ProgramVersion
from punchcard.staff import service as staff_service
from punchcard.staff.domain import Action
from punchcard.wallet import credit, figures
from punchcard.wallet import service as wallet
from punchcard.wallet.operations import Asked

_FORM_KEY = re.compile(r"^[0-9a-f]{32}$")
CREDIT_LINES = 10
"""Store-credit movements the member page shows."""
REASON_LENGTH = (3, 500)

NOTICES = {
    "disabled": "The gift card is disabled: it pays nothing more and takes no refunds. Its balance stays on the books.",
    "already_disabled": "The gift card was already disabled: nothing changed.",
}

SOURCES = {"api": "API", "sale": "sold in the shop", "console": "console"}
"""Where a card came from, as the list says it."""
CARD_MOVES = {
    "issue": "issued",
    "spend": "redeemed",
    "refund": "refunded to the card",
    "expire": "expired: written off to breakage",
}
"""A card's ledger legs by kind, in words."""
CREDIT_MOVES = {
    "adjust": "granted by staff",
    "issue": "a refund paid as credit",
    "refund": "a refund of credit spent",
    "spend": "spent",
    "earn": "cashback",
    "vest": "cashback left the return window",
    "reverse": "cashback taken back by a refund",
    "convert": "points converted",
}
"""A member's store-credit legs by kind, in words."""


def page(frame: Frame, now: datetime, typed: str = "", before: int | None = None) -> HTMLResponse:
    """The liability figures and a page of the program's gift cards: all newest first, or those whose code ends in the
    four symbols ``typed``."""
    assert frame.version is not None
    version = frame.version
    last4 = figures.last4_of(typed) if typed.strip() else None
    problem = "Type the last four letters or digits of the card's code." if typed.strip() and last4 is None else ""
    limit = figures.CARD_PAGE
    found = (
        figures.cards(frame.session, version.program_id, now, last4=last4, before=before, limit=limit)
        if not problem
        else figures.CardPage([], None)
    )
    return frame.page(
        "wallet.html",
        422 if problem else 200,
        liability=figures.liability(frame.session, version.wallet_terms, now),
        found=found,
        q=typed,
        last4=last4,
        before=before,
        problem=problem,
        limit=limit,
        sources=SOURCES,
        now=now,
    )


def card_page(
    frame: Frame,
    card_id: int,
    now: datetime,
    status: int = 200,
    *,
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
    notice: str = "",
) -> HTMLResponse:
    """One gift card: what it is, its ledger history with the balance after each movement, and the disable form."""
    assert frame.version is not None
    detail = figures.card(frame.session, frame.version.program_id, card_id, now)
    return frame.page(
        "wallet_card.html",
        status,
        detail=detail,
        card=detail.card,
        errors=errors or {},
        form=form or {},
        notice=NOTICES.get(notice, ""),
        sources=SOURCES,
        moves=CARD_MOVES,
        reason_length=REASON_LENGTH,
        now=now,
    )


def reason_error(reason: str) -> str | None:
    low, high = REASON_LENGTH
    if not low <= len(reason.strip()) <= high:
        return f"say why, in {low} to {high} characters (it goes to the audit log)"
    return None


def disable(session: Session, staff: Staff, version: ProgramVersion, card_id: int, reason: str, now: datetime) -> bool:
    """Disable the program's card ``card_id`` for ``reason``; ``False`` when it was disabled already (nothing more
    happens)."""
    card = wallet.card_by_id(session, version.program_id, card_id)  # locked: a second disable waits, then sees it
    if card.disabled_at is not None:
        return False
    shown = wallet.disable_card(session, card, reason, now)
    staff_service.record(
        session,
        Action.GIFT_CARD_DISABLED,
        now,
        staff_id=staff.account.id,
        program_id=version.program_id,
        target=f"gift card {card.id} ending {card.last4}",
        reason=reason,
        details={"card_id": card.id, "last4": card.last4, "balance": shown["balance"], "currency": card.currency},
    )
    return True


def grant(
    session: Session,
    staff: Staff,
    version: ProgramVersion,
    member: Member,
    given: CreditGrant,
    form_key: str,
    now: datetime,
) -> bool:
    """Grant the member ``given.amount_minor`` of store credit; ``False`` when this form was already applied (nothing
    more happens)."""
    if not _FORM_KEY.match(form_key):
        raise ValidationFailed("the form has no valid one-time key; reload the page and try again")
    terms = version.wallet_terms
    request = {"member": member.external_id, "amount_minor": given.amount_minor, "reason": given.reason}
    asked = Asked.of("store_credit.grant", f"console-grant:{form_key}", request)
    movement = credit.Movement(given.amount_minor, reason=given.reason)
    try:
        outcome = credit.grant(session, terms, member, asked, movement, now)
    except IdempotencyConflict:
        raise ValidationFailed(
            "this form was already sent with another amount or reason; reload the page to grant more"
        ) from None
    if outcome.status != 201:
        return False  # the first answer to this form, replayed
    staff_service.record(
        session,
        Action.STORE_CREDIT_GRANTED,
        now,
        staff_id=staff.account.id,
        program_id=version.program_id,
        member_id=member.id,
        target=f"member {member.external_id}",
        reason=given.reason,
        details={
            "amount": outcome.body["amount"],
            "currency": terms.currency,
            "available_after": outcome.body["store_credit"]["balance"],
        },
    )
    return True


def member_credit(session: Session, version: ProgramVersion, member: Member) -> figures.MemberCredit:
    return figures.member_credit(session, version.wallet_terms, member.id, latest=CREDIT_LINES)
