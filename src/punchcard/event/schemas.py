"""The event body shops post. One model for every type; which fields a type needs is checked here."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal, Self

from pydantic import Field, JsonValue, model_validator

from punchcard.kit.money import to_minor
from punchcard.kit.schemas import Attributes, Identifier, Moment, Money, Request
from punchcard.membership.domain import EVENT_TYPES as MEMBERSHIP_EVENTS
from punchcard.membership.domain import Instruction
from punchcard.rules.domain import MEMBER_ENROLLED, PURCHASE, REFUND, EventFacts
from punchcard.rules.schemas import LineIn

# Orders are stored in minor units in 32-bit integer columns.
MAX_ORDER_MINOR = 2**31 - 1
# Every line is validated, then walked by each purchase rule under the member's lock; real orders have far fewer.
MAX_LINES = 1000


class RefundLineIn(Request):
    sku: Identifier
    quantity: Annotated[Decimal, Field(gt=0, allow_inf_nan=False, max_digits=12, decimal_places=3)]


class EventIn(Request):
    id: Identifier
    type: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,62}$")]
    member_external_id: Identifier
    occurred_at: Moment
    order_id: Identifier | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")] | None = None
    lines: Annotated[list[LineIn], Field(max_length=MAX_LINES)] | None = None
    shipping: Money = Decimal(0)
    refund_lines: Annotated[list[RefundLineIn], Field(max_length=MAX_LINES)] | None = None
    amount: Money | None = None
    attributes: Attributes = {}

    @model_validator(mode="after")
    def _fields_for_type(self) -> Self:
        if self.type == MEMBER_ENROLLED:
            raise ValueError("member_enrolled is raised by Punchcard itself when a member is created")
        if self.type == PURCHASE:
            _require(self, "order_id", "currency", "lines")
            if not self.lines or any(line.unit_price is None for line in self.lines):
                raise ValueError("a purchase needs at least one line, each with a unit_price")
            total = sum((line.quantity * (line.unit_price or 0) for line in self.lines), self.shipping)
            if self.currency is not None and to_minor(total, self.currency) > MAX_ORDER_MINOR:
                raise ValueError("the order total is too large to record")
        if self.type == REFUND:
            _require(self, "order_id", "currency")
            if (self.refund_lines is None) == (self.amount is None):
                raise ValueError("a refund gives either refund_lines (sku and quantity) or an amount, not both")
        if self.type in MEMBERSHIP_EVENTS:
            Instruction.of(self.type, self.occurred_at, self.attributes, None)  # names what is wrong
            if self.amount is not None:
                _require(self, "currency")
        return self

    def facts(self, now: datetime) -> EventFacts:
        """The rules' view of the event; ``now`` stands in for a preview's missing ``occurred_at``."""
        return EventFacts(
            type=self.type,
            occurred_at=self.occurred_at or now,
            lines=tuple(line.to_domain() for line in self.lines or ()),
            shipping=self.shipping,
            attributes=dict(self.attributes),
            amount=self.amount,
            refunded=_refunded(self.refund_lines or ()),
        )


def _refunded(lines: Sequence[RefundLineIn]) -> dict[str, Decimal]:
    found: dict[str, Decimal] = {}
    for line in lines:
        found[line.sku] = found.get(line.sku, Decimal(0)) + line.quantity
    return found


def _require(event: EventIn, *fields: str) -> None:
    missing = [field for field in fields if getattr(event, field) is None]
    if missing:
        raise ValueError(f"a {event.type} event needs {', '.join(missing)}")


class PreviewIn(EventIn):
    """A purchase body; the id and the member are optional (without a member, no tier or member conditions hold)."""

    id: Identifier | None = None  # type: ignore[assignment]
    type: Literal["purchase"] = PURCHASE  # type: ignore[assignment]
    member_external_id: Identifier | None = None  # type: ignore[assignment]
    occurred_at: Moment | None = None  # type: ignore[assignment]


MAX_BATCH = 1000
"""Events in one ``POST /api/v1/events/batch``."""


class EventBatchIn(Request):
    """Up to ``MAX_BATCH`` events, each checked on its own: a bad one is answered with its error and does not stop
    the others."""

    events: Annotated[list[dict[str, JsonValue]], Field(min_length=1, max_length=MAX_BATCH)]


class EventStatusOut(Request):
    """Where an event stands (the answer to an accepted event, to the batch's items and to
    ``GET /api/v1/events/{event_id}``)."""

    event_id: str
    status: Literal["accepted", "processed", "rejected"]
    accepted_at: datetime
    processed_at: datetime | None
    status_url: str
    response: dict[str, JsonValue] | None = None
    """Once processed: the response a synchronous request got (or would have got)."""
    error: dict[str, JsonValue] | None = None
    """Once rejected: the error a synchronous request would have got."""
