"""Order lines as requests carry them (events, previews, coupon validation)."""

from decimal import Decimal
from typing import Annotated

from pydantic import Field

from punchcard.kit.schemas import Identifier, Money, Request
from punchcard.rules.domain import Line


class LineIn(Request):
    sku: Identifier
    category: Annotated[str, Field(max_length=200)] = ""
    quantity: Annotated[Decimal, Field(gt=0, allow_inf_nan=False, max_digits=12, decimal_places=3)]
    unit_price: Money | None = None

    def to_domain(self) -> Line:
        return Line(self.sku, self.category, self.quantity, self.unit_price or Decimal(0))
