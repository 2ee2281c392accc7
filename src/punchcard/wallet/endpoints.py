"""Gift cards and store credit over HTTP.

``/api/v1/gift-cards``: issue (``Idempotency-Key``), read a balance, redeem in part and refund to the card (both with
an ``Idempotency-Key``), disable. A code that matches no card is written down after the request's rollback and counts
towards the guessing limit (``wallet.service.look_up``).

``/api/v1/members/{id}/store-credit``: read, grant (admin), spend and refund into it, and convert points to it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import EmailStr, Field
from sqlalchemy.orm import Session

from punchcard.kit.db import committed_once
from punchcard.kit.errors import ValidationFailed
from punchcard.kit.http import NowDep, SessionDep
from punchcard.kit.money import exponent, to_minor
from punchcard.kit.schemas import Identifier, Moment, Money
from punchcard.kit.schemas import Request as RequestBody
from punchcard.member import service as members
from punchcard.program.domain import ProgramVersion
from punchcard.program.http import CallerDep, VersionDep
from punchcard.wallet import credit, service
from punchcard.wallet.domain import code_hash, normalised
from punchcard.wallet.errors import GiftCardNotFound
from punchcard.wallet.operations import Asked, Outcome

T = TypeVar("T")

router = APIRouter(prefix="/api/v1", tags=["wallets"])

KeyHeader = Annotated[str | None, Header(max_length=255)]


class GiftCardIn(RequestBody):
    amount: Money
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    expires_at: Moment | None = None
    recipient_email: EmailStr | None = None
    message: Annotated[str, Field(max_length=1000)] | None = None


class MoveIn(RequestBody):
    amount: Money
    order_id: Identifier


class DisableIn(RequestBody):
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class GrantIn(RequestBody):
    amount: Money
    reason: Annotated[str, Field(min_length=1, max_length=500)]


class ConversionIn(RequestBody):
    points: Annotated[int, Field(ge=1, le=1_000_000_000)]


def minor(amount: Decimal, currency: str) -> int:
    """A positive amount in minor units; more decimals than the currency has is an error, not a rounding."""
    if amount <= 0:
        raise ValidationFailed("the amount must be more than zero", [{"field": "amount", "message": "not positive"}])
    if amount != amount.quantize(Decimal(1).scaleb(-exponent(currency))):
        raise ValidationFailed(
            f"{currency} has {exponent(currency)} decimals", [{"field": "amount", "message": "too many decimals"}]
        )
    return to_minor(amount, currency)


def _required(key: str | None) -> str:
    if not key:
        raise ValidationFailed(
            "the Idempotency-Key header is required", [{"field": "Idempotency-Key", "message": "missing"}]
        )
    return key


def _prober(request: Request, authorization: str | None) -> service.Prober:
    key = hashlib.sha256((authorization or "").encode()).hexdigest()
    return service.Prober(key, request.client.host if request.client else "unknown")


def _answer(outcome: Outcome) -> JSONResponse:
    return JSONResponse(outcome.body, status_code=outcome.status)


def _once(session: Session, work: Callable[[], Outcome]) -> JSONResponse:
    """``work`` exactly once per key however the same key arrives (``kit.db.committed_once``), as a response."""
    return _answer(committed_once(session, work))


def _with_code(
    session: Session, version: ProgramVersion, prober: service.Prober, code: str, now: Any, work: Callable[[], T]
) -> T:
    """``work()``; a code that matched no card is written down (and committed) after the rollback."""
    try:
        return work()
    except GiftCardNotFound:
        session.rollback()
        service.note_failure(session, version.program_id, prober, code, now)
        session.commit()
        raise


def _card_request(code: str, body: RequestBody) -> dict[str, Any]:
    """A card operation's fingerprint: the card (by its code's hash) and the body."""
    return {"card": code_hash(normalised(code)), **body.model_dump(mode="json")}


@router.post("/gift-cards", status_code=201, responses={200: {"description": "the same issue again"}})
def issue_gift_card(
    body: GiftCardIn, session: SessionDep, version: VersionDep, now: NowDep, idempotency_key: KeyHeader = None
) -> JSONResponse:
    """Issue a gift card; the answer carries its code, which is stored only hashed: keep it. The same
    ``Idempotency-Key`` again answers with the same card and code."""
    asked = Asked.of("gift_card.issue", _required(idempotency_key), body.model_dump(mode="json"))
    spec = service.Issue(
        minor(body.amount, body.currency),
        body.currency,
        body.expires_at,
        str(body.recipient_email) if body.recipient_email else None,
        body.message,
    )
    return _once(session, lambda: service.issue_once(session, version.wallet_terms, asked, spec, now))


@router.get("/gift-cards/{code}")
def gift_card_balance(
    code: str,
    request: Request,
    session: SessionDep,
    version: VersionDep,
    now: NowDep,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """The card's balance, status and expiry."""
    prober = _prober(request, authorization)
    return _with_code(
        session, version, prober, code, now, lambda: service.balance(session, version.wallet_terms, prober, code, now)
    )


def _move(
    action: str,
    move: Callable[..., Outcome],
    code: str,
    body: MoveIn,
    request: Request,
    session: Session,
    version: ProgramVersion,
    now: Any,
    key: str | None,
    authorization: str | None,
) -> JSONResponse:
    asked = Asked.of(action, _required(key), _card_request(code, body))
    prober = _prober(request, authorization)
    terms = version.wallet_terms
    amount = service.Move(minor(body.amount, terms.currency), body.order_id)
    return _with_code(
        session,
        version,
        prober,
        code,
        now,
        lambda: _once(session, lambda: move(session, terms, prober, code, asked, amount, now)),
    )


@router.post("/gift-cards/{code}/redemptions", status_code=201, responses={200: {"description": "the same again"}})
def redeem_gift_card(
    code: str,
    body: MoveIn,
    request: Request,
    session: SessionDep,
    version: VersionDep,
    now: NowDep,
    idempotency_key: KeyHeader = None,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Pay ``amount`` of an order from the card: all of it, or nothing and ``gift_card_insufficient_balance`` with
    the balance (ask again for what it covers)."""
    args = (code, body, request, session, version, now, idempotency_key, authorization)
    return _move("gift_card.redeem", service.redeem, *args)


@router.post("/gift-cards/{code}/refunds", status_code=201, responses={200: {"description": "the same again"}})
def refund_to_gift_card(
    code: str,
    body: MoveIn,
    request: Request,
    session: SessionDep,
    version: VersionDep,
    now: NowDep,
    idempotency_key: KeyHeader = None,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """Put money back on the card for an order it paid: at most what it paid for that order, less refunds."""
    args = (code, body, request, session, version, now, idempotency_key, authorization)
    return _move("gift_card.refund", service.refund, *args)


@router.post("/gift-cards/{code}/disable")
def disable_gift_card(
    code: str,
    body: DisableIn,
    request: Request,
    session: SessionDep,
    caller: CallerDep,
    version: VersionDep,
    now: NowDep,
    authorization: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    """Stop the card (admin scope): it pays nothing more; its balance stays on the books. Disabling again changes
    nothing."""
    caller.require_admin()
    prober = _prober(request, authorization)
    terms = version.wallet_terms
    shown = _with_code(
        session, version, prober, code, now, lambda: service.disable(session, terms, prober, code, body.reason, now)
    )
    session.commit()
    return shown


# --- store credit ----------------------------------------------------------------------------------------------------


@router.get("/members/{external_id}/store-credit")
def store_credit(external_id: str, session: SessionDep, version: VersionDep) -> dict[str, Any]:
    """The member's store credit (spendable, and cashback still pending) and their latest money movements."""
    member = members.get(session, version.program_id, external_id)
    return credit.view(session, version.wallet_terms, member, history=50)


def _credit(
    action: str,
    external_id: str,
    body: RequestBody,
    movement: credit.Movement,
    work: Callable[..., Outcome],
    session: Session,
    version: ProgramVersion,
    now: Any,
    key: str | None,
) -> JSONResponse:
    asked = Asked.of(action, _required(key), {"member": external_id, **body.model_dump(mode="json")})
    member = members.get(session, version.program_id, external_id)
    return _once(session, lambda: work(session, version.wallet_terms, member, asked, movement, now))


@router.post("/members/{external_id}/store-credit/grants", status_code=201)
def grant_store_credit(
    external_id: str,
    body: GrantIn,
    session: SessionDep,
    caller: CallerDep,
    version: VersionDep,
    now: NowDep,
    idempotency_key: KeyHeader = None,
) -> JSONResponse:
    """Give the member store credit for ``reason`` (admin scope)."""
    caller.require_admin()
    movement = credit.Movement(minor(body.amount, version.program.currency), reason=body.reason)
    args = (session, version, now, idempotency_key)
    return _credit("store_credit.grant", external_id, body, movement, credit.grant, *args)


@router.post("/members/{external_id}/store-credit/redemptions", status_code=201)
def spend_store_credit(
    external_id: str,
    body: MoveIn,
    session: SessionDep,
    version: VersionDep,
    now: NowDep,
    idempotency_key: KeyHeader = None,
) -> JSONResponse:
    """Pay ``amount`` of an order from the member's store credit: all of it or nothing."""
    movement = credit.Movement(minor(body.amount, version.program.currency), body.order_id)
    args = (session, version, now, idempotency_key)
    return _credit("store_credit.spend", external_id, body, movement, credit.spend, *args)


@router.post("/members/{external_id}/store-credit/refunds", status_code=201)
def refund_to_store_credit(
    external_id: str,
    body: MoveIn,
    session: SessionDep,
    version: VersionDep,
    now: NowDep,
    idempotency_key: KeyHeader = None,
) -> JSONResponse:
    """Refund (part of) an order as store credit."""
    movement = credit.Movement(minor(body.amount, version.program.currency), body.order_id)
    args = (session, version, now, idempotency_key)
    return _credit("store_credit.refund", external_id, body, movement, credit.refund, *args)


@router.post("/members/{external_id}/conversions", status_code=201)
def convert_points(
    external_id: str,
    body: ConversionIn,
    session: SessionDep,
    version: VersionDep,
    now: NowDep,
    idempotency_key: KeyHeader = None,
) -> JSONResponse:
    """Convert the member's points to store credit at the program's rate (``store_credit.conversion``)."""
    asked = Asked.of("store_credit.convert", _required(idempotency_key), {"member": external_id, "points": body.points})
    member = members.get(session, version.program_id, external_id)
    return _once(session, lambda: credit.convert(session, version.wallet_terms, member, asked, body.points, now))
