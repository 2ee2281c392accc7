"""Coupon request bodies."""

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from punchcard.coupon.domain import Order
from punchcard.kit.schemas import Identifier, Money, Request
from punchcard.rules.schemas import LineIn


class OrderIn(Request):
    id: Identifier | None = None
    total: Money
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    lines: list[LineIn] = []
    shipping: Money = Decimal(0)

    def to_domain(self) -> Order:
        return Order(self.total, self.currency, tuple(line.to_domain() for line in self.lines), self.shipping)


class ValidateIn(Request):
    code: Annotated[str, Field(min_length=1, max_length=64)]
    order: OrderIn
    member_external_id: Identifier | None = None


class OrderRef(Request):
    order_id: Identifier
