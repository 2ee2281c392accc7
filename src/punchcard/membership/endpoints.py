"""Memberships over HTTP: start one (``POST /api/v1/members/{id}/memberships``), read it, and the Stripe adapter
(``POST /integrations/stripe/{program}/webhooks``).

Both writes become membership events recorded exactly as ``POST /api/v1/events`` records one (``event.http``), so a
retry, a webhook delivered twice or ten deliveries at once are decided once, under the member's lock, and answered
from the first.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import Field, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from punchcard.coupon.schemas import OrderIn
from punchcard.event.errors import CurrencyMismatch
from punchcard.event.http import record_now, told_at
from punchcard.event.schemas import EventIn
from punchcard.integration import service as integrations
from punchcard.integration.service import Provider
from punchcard.kit.errors import PunchcardError, validation_failure
from punchcard.kit.http import NowDep, SessionDep
from punchcard.kit.money import format_amount, from_minor
from punchcard.kit.schemas import Identifier, Moment, Money
from punchcard.kit.schemas import Request as RequestBody
from punchcard.member import service as members
from punchcard.membership import service, stripe
from punchcard.membership.domain import (
    MEMBERSHIP_CANCELLED,
    MEMBERSHIP_PAYMENT_FAILED,
    MEMBERSHIP_RENEWED,
    MEMBERSHIP_STARTED,
    BillingPeriod,
    Refusal,
    checkout,
)
from punchcard.membership.errors import (
    MembershipNotFound,
    StripeEventUnreadable,
    StripeMemberUnknown,
    StripeNotConfigured,
    StripeSignatureInvalid,
)
from punchcard.program import service as programs
from punchcard.program.domain import ProgramVersion
from punchcard.program.http import AskedLanguageDep, OwnAccessDep, VersionDep

log = logging.getLogger(__name__)

router = APIRouter(prefix="/api/v1/members", tags=["memberships"])
integrations_router = APIRouter(prefix="/integrations", tags=["integrations"])


class MembershipIn(RequestBody):
    plan: Annotated[str, Field(min_length=1, max_length=63)]
    period: BillingPeriod
    payment_ref: Identifier
    """The payment provider's reference of the first payment (or of the trial's sign-up): a start told again with
    the same reference is answered as the first."""
    subscription_ref: Identifier | None = None
    started_at: Moment | None = None
    amount: Money | None = None
    """What was paid for the first period; the plan's price when not given (nothing in a trial)."""


@router.post("/{external_id}/memberships", status_code=201, responses={200: {"description": "the same start again"}})
async def start_membership(
    external_id: str, body: MembershipIn, request: Request, access: OwnAccessDep, now: NowDep
) -> JSONResponse:
    """Start the member's membership on ``plan``: in its trial if it has one the member has not had, else paid for
    the first ``period``. A member whose membership lapsed or was cancelled may start again (without a second
    trial)."""
    version = access.version
    event_id = f"membership-start:{body.payment_ref}"
    started_at = body.started_at or await run_in_threadpool(told_at, request, version.program_id, event_id) or now
    attributes: dict[str, Any] = {"plan": body.plan, "period": body.period.value, "payment_ref": body.payment_ref}
    if body.subscription_ref is not None:
        attributes["subscription_ref"] = body.subscription_ref
    event = _event(version, event_id, MEMBERSHIP_STARTED, external_id, started_at, attributes, body.amount)
    outcome = await record_now(request, version, event, now)
    view = await run_in_threadpool(_view_of, request, version, external_id, now, None)
    return JSONResponse({"membership": view, "effects": outcome.body["effects"]}, status_code=outcome.status)


@router.get("/{external_id}/membership")
def read_membership(
    external_id: str, session: SessionDep, version: VersionDep, asked: AskedLanguageDep, now: NowDep
) -> dict[str, Any]:
    """The member's membership: plan, status as of now, the period paid for and the perks it gives."""
    view = _view(session, version, external_id, now, asked)
    if view is None:
        raise MembershipNotFound(f"member {external_id!r} has never had a membership")
    return view


class BenefitsIn(RequestBody):
    order: OrderIn


@router.post("/{external_id}/membership/benefits")
def membership_benefits(
    external_id: str, body: BenefitsIn, session: SessionDep, version: VersionDep, now: NowDep
) -> dict[str, Any]:
    """What the member's plan takes off this order at the checkout (free shipping, the member price on its
    categories), perk by perk; nothing without a current membership. Changes nothing."""
    program = version.program
    member = members.get(session, version.program_id, external_id)
    found = service.perks(session, program.membership_terms, member.id, now)
    currency = program.currency
    order = body.order.to_domain()
    if order.currency != currency:
        raise CurrencyMismatch(f"the order is in {order.currency}, the program in {currency}")
    benefits = checkout(found[1], order, currency) if found is not None else []
    total = sum((discount for _, discount in benefits), Decimal(0))
    return {
        "plan": found[0].code if found is not None else None,
        "benefits": [
            {"perk": perk, "discount": {"amount": format_amount(discount, currency), "currency": currency}}
            for perk, discount in benefits
        ],
        "discount": {"amount": format_amount(total, currency), "currency": currency},
    }


def _view_of(
    request: Request, version: ProgramVersion, external_id: str, now: datetime, asked: str | None
) -> dict[str, Any] | None:
    with request.app.state.sessions() as session:
        return _view(session, version, external_id, now, asked)


def _view(
    session: Session, version: ProgramVersion, external_id: str, now: datetime, asked: str | None
) -> dict[str, Any] | None:
    program = version.program
    member = members.get(session, version.program_id, external_id)
    language = program.text_language(asked, member.language)
    return service.view(service.current(session, member.id), program.membership_terms, now, language)


def _event(
    version: ProgramVersion,
    event_id: str,
    event_type: str,
    external_id: str,
    at: datetime,
    attributes: dict[str, Any],
    amount: Any,
) -> EventIn:
    """The membership event for the event path; an invalid one is the same 422 ``POST /api/v1/events`` gives."""
    fields: dict[str, Any] = {
        "id": event_id,
        "type": event_type,
        "member_external_id": external_id,
        "occurred_at": at,
        "attributes": attributes,
    }
    if amount is not None:
        fields |= {"amount": amount, "currency": version.program.currency}
    return EventIn.model_validate(fields)


# --- Stripe -------------------------------------------------------------------------------------------------------

_RENEWING = {
    "subscription_create": MEMBERSHIP_STARTED,
    "subscription_cycle": MEMBERSHIP_RENEWED,
    "subscription_update": MEMBERSHIP_RENEWED,
}
"""The invoices that pay for a membership period, by ``billing_reason``: the subscription's first, each cycle's,
and a plan change's. Others (``manual``, a usage threshold) pay for something else and are acknowledged only."""
_TYPE_OF_KIND = {"failed": MEMBERSHIP_PAYMENT_FAILED, "ended": MEMBERSHIP_CANCELLED}
_DOMAIN_REFUSALS = frozenset(refusal.value for refusal in Refusal)


@integrations_router.post(
    "/stripe/{program}/webhooks",
    responses={400: {"description": "the signature does not verify, or the event cannot be read"}},
)
async def stripe_webhook(
    program: str,
    request: Request,
    now: NowDep,
    stripe_signature: Annotated[str | None, Header(alias="Stripe-Signature")] = None,
) -> JSONResponse:
    """A Stripe delivery: verified (``Stripe-Signature``, 5 minutes' tolerance) before anything is read, then
    ``invoice.paid`` renews (or starts, for a subscription's first invoice), ``invoice.payment_failed`` starts the
    grace, ``customer.subscription.deleted`` ends the membership. The subscription's metadata ``punchcard_member``
    names the member (or a subscription already known does). Other event types are acknowledged and ignored."""
    payload = await request.body()
    version, secrets = await run_in_threadpool(_program_and_secrets, request, program)
    try:
        stripe.verify(stripe_signature, payload, secrets, now)
    except stripe.SignatureRefused as refused:
        log.warning("stripe delivery for %s refused: %s", program, refused.reason)
        raise StripeSignatureInvalid(refused.message, [{"reason": refused.reason}]) from None
    try:
        found = stripe.read(json.loads(payload))
    except (ValueError, UnicodeDecodeError) as unreadable:
        raise StripeEventUnreadable(f"not a Stripe event: {unreadable}") from None
    if found is None or (found.kind == "paid" and found.billing_reason not in _RENEWING):
        return JSONResponse({"received": True, "ignored": True})
    external_id = found.member_external_id
    if external_id is None:
        external_id = await run_in_threadpool(_subscriber, request, version, found)
    try:
        event = _stripe_event(found, external_id)
    except ValidationError as invalid:
        raise StripeEventUnreadable(
            "the Stripe event does not make a membership event", validation_failure(invalid.errors()).details
        ) from None
    try:
        outcome = await record_now(request, version, event, now)
    except PunchcardError as refusal:
        if refusal.code not in _DOMAIN_REFUSALS:
            raise  # the shop's to fix (an unknown member, another currency): Stripe retries for three days
        # Nothing a retry could change (a failure of a membership that ended, a plan no longer sold): acknowledged,
        # so Stripe stops retrying, and logged for the shop.
        log.warning("stripe event %s for %s refused: %s", found.event_id, program, refusal.message)
        return JSONResponse({"received": True, "refused": refusal.envelope()["error"]})
    return JSONResponse({"received": True, **outcome.body}, status_code=200)


def _program_and_secrets(request: Request, slug: str) -> tuple[ProgramVersion, list[str]]:
    with request.app.state.sessions() as session:
        version = programs.current(session, programs.program_id_for(session, slug))
        secrets = integrations.secrets(session, version.program_id, Provider.STRIPE)
    if not secrets:
        raise StripeNotConfigured(f"no Stripe signing secret is set for {slug!r} (punchcard integration stripe)")
    return version, secrets


def _subscriber(request: Request, version: ProgramVersion, found: stripe.StripeMembershipEvent) -> str:
    """The member a subscription without ``punchcard_member`` metadata pays for, from an earlier event of it."""
    with request.app.state.sessions() as session:
        member_id = (
            service.of_subscription(session, version.program_id, found.subscription_id)
            if found.subscription_id
            else None
        )
        member = members.by_id(session, version.program_id, member_id) if member_id is not None else None
    if member is None:
        raise StripeMemberUnknown(
            f"Stripe event {found.event_id}: set the subscription's metadata {stripe.MEMBER_KEY} to the member's id",
            [{"event_id": found.event_id, "subscription": found.subscription_id}],
        )
    return member.external_id


def _stripe_event(found: stripe.StripeMembershipEvent, external_id: str) -> EventIn:
    """The membership event a Stripe event says: its id is Stripe's, so Stripe's retries are replays. A paid
    subscription's first invoice starts the membership; any other paid invoice renews it."""
    attributes: dict[str, Any] = {}
    for name, value in (
        ("plan", found.plan),
        ("period", found.period),
        ("payment_ref", found.payment_ref),
        ("subscription_ref", found.subscription_id),
        ("paid_until", found.period_end.isoformat() if found.period_end else None),
    ):
        if value is not None:
            attributes[name] = value
    amount = None
    if found.kind == "paid":
        event_type = _RENEWING[found.billing_reason or ""]
        if found.amount_minor is not None and found.currency is not None:
            amount = from_minor(found.amount_minor, found.currency)
    else:
        event_type = _TYPE_OF_KIND[found.kind]
        attributes.pop("paid_until", None)
        if found.kind == "ended":
            attributes = {"at_period_end": False}
    fields: dict[str, Any] = {
        "id": f"stripe:{found.event_id}",
        "type": event_type,
        "member_external_id": external_id,
        "occurred_at": found.occurred_at,
        "attributes": attributes,
    }
    if amount is not None:
        fields |= {"amount": amount, "currency": found.currency}
    return EventIn.model_validate(fields)
