"""``POST /integrations/shopify/{program}/webhooks`` and ``POST /integrations/woocommerce/{program}/webhooks``.

Each delivery is verified (base64 HMAC-SHA256 of the raw body, constant time) before anything is read; a wrong or
missing signature is 401 and nothing is kept. Verified, it is read, applied and its events accepted for the intake's
workers in one transaction, and answered 200 after the commit, well inside the platforms' time limits (Shopify's is
5 seconds): a crash after the answer loses nothing, since the workers process what was accepted. A delivery received
again (the same ``X-Shopify-Webhook-Id`` / ``X-WC-Webhook-Delivery-ID``) is answered with what it did the first time.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from punchcard.event.http import accept_later
from punchcard.integration import service as integrations
from punchcard.integration.service import Provider
from punchcard.kit.errors import PunchcardError
from punchcard.kit.http import NowDep, SessionDep
from punchcard.member.errors import MemberNotFound
from punchcard.privacy import service as privacy
from punchcard.privacy.domain import Requester, Source
from punchcard.program import service as programs
from punchcard.program.domain import ProgramVersion
from punchcard.shops import service, shopify, woocommerce
from punchcard.shops.domain import DeliveryUnreadable, Instruction, Platform, PrivacyRequest, signed
from punchcard.shops.errors import ShopNotConnected, WebhookSignatureInvalid, WebhookUnreadable

router = APIRouter(prefix="/integrations", tags=["integrations"])

PING = re.compile(rb"^webhook_id=\d{1,20}$")
"""WooCommerce's creation ping: a form body naming the new webhook, sent unsigned (``WC_Webhook::deliver_ping``)."""

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "the body or its headers are not a delivery of the platform (`webhook_unreadable`)"},
    401: {"description": "the signature is missing or wrong (`webhook_signature_invalid`); nothing was kept"},
    404: {"description": "no such program, or it has no secret for the platform (`shop_not_connected`)"},
    409: {"description": "a refund of an order not received yet (`shop_order_unknown`): sent again later"},
}


async def raw_body(request: Request) -> bytes:
    """The body exactly as signed: the signature is over these bytes, not over their parsed JSON."""
    return await request.body()


RawBody = Annotated[bytes, Depends(raw_body)]


@router.post("/shopify/{program}/webhooks", responses=ERRORS)
def shopify_webhook(
    program: str,
    body: RawBody,
    session: SessionDep,
    now: NowDep,
    hmac: Annotated[str | None, Header(alias="X-Shopify-Hmac-Sha256")] = None,
    topic: Annotated[str | None, Header(alias="X-Shopify-Topic")] = None,
    webhook_id: Annotated[str | None, Header(alias="X-Shopify-Webhook-Id")] = None,
    shop: Annotated[str | None, Header(alias="X-Shopify-Shop-Domain")] = None,
) -> JSONResponse:
    """A Shopify delivery: `orders/paid` (or `orders/create`, as the program says) earns, `orders/cancelled` and
    `refunds/create` take back, `customers/create|update` enrol and update members, and the privacy topics are
    kept for the privacy feature. Other topics are acknowledged and ignored."""
    version = _connected(session, program, Platform.SHOPIFY, body, hmac, shop)
    topic, delivery_id = _headers(topic, webhook_id, "X-Shopify-Topic", "X-Shopify-Webhook-Id")
    payload = _parsed(body)
    instructions = _read(lambda: [shopify.read(topic, payload, service.connection_of(version, Platform.SHOPIFY))])
    return _apply(session, version, Platform.SHOPIFY, delivery_id, topic, instructions, now)


@router.post("/woocommerce/{program}/webhooks", responses=ERRORS)
def woocommerce_webhook(
    program: str,
    body: RawBody,
    session: SessionDep,
    now: NowDep,
    signature: Annotated[str | None, Header(alias="X-WC-Webhook-Signature")] = None,
    topic: Annotated[str | None, Header(alias="X-WC-Webhook-Topic")] = None,
    delivery_id: Annotated[str | None, Header(alias="X-WC-Webhook-Delivery-ID")] = None,
    source: Annotated[str | None, Header(alias="X-WC-Webhook-Source")] = None,
) -> JSONResponse:
    """A WooCommerce delivery: an order's status decides (`order.created`, `order.updated`): an earning status
    earns, `refunded` and `cancelled` take back what is left, each of its `refunds` takes back its amount;
    `customer.created|updated` enrol and update members. The unsigned ping WooCommerce sends when a webhook is made
    is answered 200 and changes nothing."""
    if signature is None and PING.match(body.strip()):
        return JSONResponse({"ping": True})
    version = _connected(session, program, Platform.WOOCOMMERCE, body, signature, _site(source))
    topic, delivery_id = _headers(topic, delivery_id, "X-WC-Webhook-Topic", "X-WC-Webhook-Delivery-ID")
    payload = _parsed(body)
    connection = service.connection_of(version, Platform.WOOCOMMERCE)
    instructions = _read(lambda: woocommerce.read(topic, payload, connection))
    return _apply(session, version, Platform.WOOCOMMERCE, delivery_id, topic, instructions, now)


def _connected(
    session: Session, slug: str, platform: Platform, body: bytes, signature: str | None, account: str | None
) -> ProgramVersion:
    """The program's version in force, once the delivery's signature verifies with one of its secrets for the
    platform (and it comes from the account the operator named, if one)."""
    program_id = programs.program_id_for(session, slug)
    provider = Provider(platform.value)
    secrets = integrations.secrets(session, program_id, provider)
    if not secrets:
        raise ShopNotConnected(f"program {slug!r} has no {platform.value} secret: `punchcard integration {platform}`")
    if not any(signed(secret, body, signature) for secret in secrets):
        raise WebhookSignatureInvalid(f"the {platform.value} signature is missing or does not verify")
    expected = integrations.account(session, program_id, provider)
    if expected is not None and (account or "").lower() != expected.lower():
        raise WebhookSignatureInvalid(f"this program is connected to {expected}, not to {account or 'an unnamed shop'}")
    return programs.current(session, program_id)


def _headers(topic: str | None, delivery_id: str | None, topic_name: str, id_name: str) -> tuple[str, str]:
    missing = [name for name, value in ((topic_name, topic), (id_name, delivery_id)) if not value]
    if missing:
        raise WebhookUnreadable(
            f"the delivery lacks {' and '.join(missing)}", [{"field": f"header.{name.lower()}"} for name in missing]
        )
    assert topic is not None
    assert delivery_id is not None
    if len(topic) > 64 or len(delivery_id) > 255:
        raise WebhookUnreadable("the topic or the delivery id is too long")
    return topic, delivery_id


def _parsed(body: bytes) -> Any:
    """The JSON body, with every fractional number kept exact (``Decimal``) and ids of any size as integers."""
    try:
        return json.loads(body, parse_float=Decimal)
    except (ValueError, UnicodeDecodeError) as error:
        raise WebhookUnreadable(f"the body is not JSON: {error}") from None


def _read(reading: Any) -> list[Instruction]:
    try:
        found: list[Instruction] = reading()
    except DeliveryUnreadable as unreadable:
        raise WebhookUnreadable(f"the payload cannot be read: {unreadable}") from None
    return found


def _privacy(
    session: Session, version: ProgramVersion, platform: Platform, request: PrivacyRequest, now: datetime
) -> list[str]:
    """A platform's privacy request: a customer's data asked for is noted (the shop exports it with
    ``GET /api/v1/members/{id}/export``); a customer's or the whole shop's redaction erases their members
    (``privacy.service.erase``, the one way members are erased)."""
    if request.kind == "data_request":
        return [f"data request for customer {request.customer_ref}: export it with GET /api/v1/members/{{id}}/export"]
    erased = 0
    for external_id in service.customers_of(session, version, request, platform):
        try:
            done = privacy.erase(
                session,
                version.program_id,
                external_id,
                reason=f"{platform.value} {request.kind}",
                requester=Requester(Source.SHOP),
                now=now,
            )
        except MemberNotFound:
            continue  # a customer who never became a member: nothing is kept about them
        erased += int(done.erased_now)
    return [f"{request.kind}: {erased} member{'s' if erased != 1 else ''} erased"]


def _site(source: str | None) -> str | None:
    """A WooCommerce site's address as its deliveries name it (``X-WC-Webhook-Source``), without the trailing
    slash."""
    return source.rstrip("/") if source else None


def _apply(
    session: Session,
    version: ProgramVersion,
    platform: Platform,
    delivery_id: str,
    topic: str,
    instructions: list[Instruction],
    now: datetime,
) -> JSONResponse:
    applied = service.apply(session, version, platform, delivery_id, topic, instructions, now)
    if applied.delivery is None:
        outcome = service.previous_outcome(session, version.program_id, platform, delivery_id)
        return JSONResponse({"received": True, "duplicate": True, **outcome})
    for request in applied.privacy:
        applied.notes += _privacy(session, version, platform, request, now)
    answers = accept_later(session, version, applied.events, now) if applied.events else []
    shown = [
        answer.envelope() | {"event_id": event.id} if isinstance(answer, PunchcardError) else answer.document()
        for event, answer in zip(applied.events, answers, strict=True)
    ]
    outcome = service.record(applied, shown)
    session.commit()
    return JSONResponse({"received": True, "duplicate": False, **outcome})
