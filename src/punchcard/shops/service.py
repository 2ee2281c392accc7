"""A verified delivery from a shop platform, applied: customers become members, orders purchase events, refunds and
cancellations refund events, all keyed by the platform's own ids so that a delivery sent again, or the same change
sent by two topics, does nothing twice. Nothing here commits: the endpoint accepts the events this returns in the same
transaction (``event.http.accept``) and commits once, so the delivery, its orders and its events are kept together or
not at all; the intake's workers process the events after the answer (docs/decisions.md, "Shop platforms").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from punchcard.event import service as events
from punchcard.event.schemas import EventIn
from punchcard.kit.money import exponent, from_minor, to_minor
from punchcard.member import service as members
from punchcard.member.service import Member, Profile
from punchcard.program.domain import ProgramVersion, ShopConnection
from punchcard.shops import repository
from punchcard.shops.domain import (
    Cancellation,
    Customer,
    Ignored,
    Instruction,
    Platform,
    PrivacyRequest,
    Return,
    Sale,
)
from punchcard.shops.errors import ShopOrderUnknown
from punchcard.shops.models import ShopDelivery, ShopOrder

CANCELLED = "order"
"""The key of a cancellation's share in ``ShopOrder.given_back`` (refunds are keyed by their ids)."""


@dataclass
class Applied:
    """What a delivery did: the events to accept, and what to say of it (kept with the delivery and answered)."""

    delivery: ShopDelivery | None
    """``None``: received before; nothing was done."""
    events: list[EventIn] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    privacy: list[PrivacyRequest] = field(default_factory=list)


def connection_of(version: ProgramVersion, platform: Platform) -> ShopConnection:
    program = version.program
    return program.shopify if platform is Platform.SHOPIFY else program.woocommerce


def apply(
    session: Session,
    version: ProgramVersion,
    platform: Platform,
    delivery_id: str,
    topic: str,
    instructions: Sequence[Instruction],
    now: datetime,
) -> Applied:
    """Apply a delivery's instructions once per ``delivery_id``."""
    delivery = repository.claim_delivery(session, version.program_id, platform.value, delivery_id, topic, now)
    applied = Applied(delivery)
    if delivery is None:
        return applied
    context = _Context(session, version, platform, connection_of(version, platform), now)
    for instruction in instructions:
        context.apply(instruction, applied)
    return applied


def record(applied: Applied, answers: list[dict[str, Any]]) -> dict[str, Any]:
    """Keep with the delivery what it did (the accepted events' answers, the notes) and return it as answered."""
    outcome = {"events": answers, "notes": applied.notes}
    if applied.delivery is not None:
        applied.delivery.outcome = outcome
    return outcome


def customers_of(session: Session, version: ProgramVersion, request: PrivacyRequest, platform: Platform) -> list[str]:
    """The members a privacy request is about: the customer's (``redact``, ``data_request``), or every member the
    shop brought (``shop_redact``): those under the platform's member prefix, and, with an empty prefix, those with
    the shop's orders (the only ones that can be told to be the shop's)."""
    connection = connection_of(version, platform)
    if request.customer_ref is not None:
        return [f"{connection.member_prefix}{request.customer_ref}"]
    if connection.member_prefix:
        return members.external_ids_starting(session, version.program_id, connection.member_prefix)
    return repository.order_members(session, version.program_id, platform.value)


def previous_outcome(session: Session, program_id: int, platform: Platform, delivery_id: str) -> dict[str, Any]:
    found = repository.delivery(session, program_id, platform.value, delivery_id)
    return dict(found.outcome) if found is not None else {}


@dataclass(frozen=True)
class _Context:
    session: Session
    version: ProgramVersion
    platform: Platform
    connection: ShopConnection
    now: datetime

    def apply(self, instruction: Instruction, applied: Applied) -> None:
        if isinstance(instruction, Customer):
            self.member(instruction, update=True)
            applied.notes.append(f"customer {instruction.ref}")
        elif isinstance(instruction, Sale):
            self.sale(instruction, applied)
        elif isinstance(instruction, Return):
            self.give_back(instruction, applied)
        elif isinstance(instruction, Cancellation):
            self.cancel(instruction, applied)
        elif isinstance(instruction, PrivacyRequest):
            applied.privacy.append(instruction)
            applied.notes.append(f"privacy request {instruction.kind}")
        else:
            assert isinstance(instruction, Ignored)
            applied.notes.append(f"ignored: {instruction.why}")

    def external_id(self, customer_ref: str) -> str:
        return f"{self.connection.member_prefix}{customer_ref}"

    def member(self, customer: Customer, *, update: bool) -> Member:
        """The customer's member: enrolled when new (as of their creation at the platform, never later than now);
        with ``update``, their e-mail, name and consent brought up to date (an order's copy of the customer is not
        the customer's record, so orders only enrol)."""
        external_id = self.external_id(customer.ref)
        found = members.find(self.session, self.version.program_id, external_id)
        if found is None:
            enrolled_at = min(customer.created_at or self.now, self.now)
            profile = Profile(customer.email, customer.name, None, None, bool(customer.marketing_consent))
            created, _ = events.enrol(self.session, self.version, external_id, profile, enrolled_at, self.now)
            return created
        if update:
            changes: dict[str, object] = {"email": customer.email, "name": customer.name}
            if customer.marketing_consent is not None:
                changes["marketing_consent"] = customer.marketing_consent
            members.update(self.session, found, changes, self.now, source=self.platform.value)
        return found

    def order(self, order_ref: str) -> ShopOrder | None:
        return repository.locked_order(self.session, self.version.program_id, self.platform.value, order_ref)

    def sale(self, sale: Sale, applied: Applied) -> None:
        member = self.member(sale.customer, update=False) if sale.customer is not None else None
        row = self.order(sale.order_ref) or repository.add_order(
            self.session,
            program_id=self.version.program_id,
            platform=self.platform.value,
            order_ref=sale.order_ref,
            member_external_id=member.external_id if member is not None else None,
            currency=sale.currency,
            paid_minor=_minor(sale.paid, sale.currency),
            given_back={},
            earned=False,
            occurred_at=sale.occurred_at,
        )
        if row.member_external_id is None:
            applied.notes.append(f"guest order {sale.order_ref}: kept for the figures, earns nothing")
            return
        row.earned = True
        applied.events.append(
            EventIn(
                id=f"{self.platform.value}:order:{sale.order_ref}",
                type="purchase",
                member_external_id=row.member_external_id,
                occurred_at=sale.occurred_at,
                order_id=sale.order_ref,
                currency=sale.currency,
                lines=[
                    {
                        "sku": line.sku,
                        "category": line.category,
                        "quantity": line.quantity,
                        "unit_price": line.unit_price,
                    }
                    for line in sale.lines
                ],
                shipping=sale.shipping,
                attributes={"platform": self.platform.value, "order_name": sale.name[:100]},
            )
        )

    def give_back(self, given: Return, applied: Applied) -> None:
        row = self.order(given.order_ref)
        if row is None:
            raise ShopOrderUnknown(
                f"refund {given.refund_ref} is of order {given.order_ref}, not received yet: send it again later",
                [{"order": given.order_ref}],
            )
        if row.member_external_id is None or not row.earned:
            applied.notes.append(f"refund {given.refund_ref}: order {given.order_ref} earned nothing")
            return
        left = row.paid_minor - sum(row.given_back.values())
        value = min(_minor(given.value, row.currency), left)
        if given.refund_ref in row.given_back or value <= 0:
            applied.notes.append(f"refund {given.refund_ref}: nothing left to give back")
            return
        row.given_back = {**row.given_back, given.refund_ref: value}
        body: dict[str, Any] = (
            {"refund_lines": [{"sku": line.sku, "quantity": line.quantity} for line in given.lines]}
            if given.lines
            else {"amount": from_minor(value, row.currency)}
        )
        applied.events.append(self.refund_event(f"refund:{given.refund_ref}", row, given.occurred_at, body))

    def cancel(self, cancelled: Cancellation, applied: Applied) -> None:
        row = self.order(cancelled.order_ref)
        if row is None or row.member_external_id is None or not row.earned or CANCELLED in row.given_back:
            applied.notes.append(f"order {cancelled.order_ref} {cancelled.why}: nothing earned to give back")
            return
        left = row.paid_minor - sum(row.given_back.values())
        if left <= 0:
            applied.notes.append(f"order {cancelled.order_ref} {cancelled.why}: all given back already")
            return
        row.given_back = {**row.given_back, CANCELLED: left}
        applied.events.append(
            self.refund_event(
                f"order:{row.order_ref}:{cancelled.why}",
                row,
                cancelled.occurred_at,
                {"amount": from_minor(left, row.currency)},
            )
        )

    def refund_event(self, key: str, row: ShopOrder, occurred_at: datetime, body: dict[str, Any]) -> EventIn:
        assert row.member_external_id is not None
        return EventIn(
            id=f"{self.platform.value}:{key}",
            type="refund",
            member_external_id=row.member_external_id,
            occurred_at=max(occurred_at, row.occurred_at),
            order_id=row.order_ref,
            currency=row.currency,
            attributes={"platform": self.platform.value},
            **body,
        )


def _minor(amount: Decimal, currency: str) -> int:
    """An amount in minor units, rounded half-even where a discount spread over units left a fraction of one."""
    return to_minor(amount.quantize(Decimal(1).scaleb(-exponent(currency))), currency)
