"""The program file's ``gift_cards`` and ``store_credit`` sections (docs/program-file.md), turned into
``wallet.domain`` policies. Amounts are written in currency units and kept in minor units."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Annotated, Self

from pydantic import Field, model_validator

from punchcard.kit.money import exponent, to_minor
from punchcard.program.file_types import Strict, unique
from punchcard.wallet.domain import Conversion, GiftCardPolicy, GiftCardProduct, LookupLimits

Amount = Annotated[Decimal, Field(gt=0, le=1_000_000, allow_inf_nan=False)]
Months = Annotated[int, Field(ge=1, le=1200)]


def minor(amount: Decimal, currency: str, where: str) -> int:
    """``amount`` in minor units; refused when it has more digits than the currency (0.001 EUR is no amount)."""
    if amount != amount.quantize(Decimal(1).scaleb(-exponent(currency))):
        raise ValueError(f"{where}: {amount} has more decimals than {currency} has")
    return to_minor(amount, currency)


class GiftCardProductSpec(Strict):
    sku: Annotated[str, Field(min_length=1, max_length=200)]
    """A purchase line with this sku sells a gift card (per unit) of ``amount``."""
    amount: Amount


class LookupLimitsSpec(Strict):
    per_key: Annotated[int, Field(ge=1, le=1_000_000)] = 100
    per_address: Annotated[int, Field(ge=1, le=1_000_000)] = 10
    window_minutes: Annotated[int, Field(ge=1, le=24 * 60)] = 15


class GiftCardsSpec(Strict):
    expire_after_months: Months | None = None
    """How long a card is valid when issued without ``expires_at``; none: it never expires."""
    minimum_validity_months: Annotated[int, Field(ge=0, le=1200)] = 0
    """The shortest validity the shop's jurisdiction allows: an ``expires_at`` sooner than this is refused."""
    products: list[GiftCardProductSpec] = []
    lookup_limits: LookupLimitsSpec = LookupLimitsSpec()

    @model_validator(mode="after")
    def _valid_long_enough(self) -> Self:
        months = self.expire_after_months
        if months is not None and months < self.minimum_validity_months:
            raise ValueError("expire_after_months is shorter than minimum_validity_months")
        unique([product.sku for product in self.products], "gift card sku")
        return self

    def to_domain(self, currency: str) -> GiftCardPolicy:
        limits = self.lookup_limits
        return GiftCardPolicy(
            expire_after_months=self.expire_after_months,
            minimum_validity_months=self.minimum_validity_months,
            products=tuple(
                GiftCardProduct(product.sku, minor(product.amount, currency, f"gift card {product.sku}"))
                for product in self.products
            ),
            limits=LookupLimits(limits.per_key, limits.per_address, timedelta(minutes=limits.window_minutes)),
        )


class ConversionSpec(Strict):
    points: Annotated[int, Field(ge=1, le=1_000_000)]
    amount: Amount
    """``points`` points convert to this much store credit."""
    minimum_points: Annotated[int, Field(ge=0, le=100_000_000)] = 0


class StoreCreditSpec(Strict):
    conversion: ConversionSpec | None = None
    """Members may convert points to store credit at this rate; none: they may not."""

    def conversion_of(self, currency: str) -> Conversion | None:
        rate = self.conversion
        if rate is None:
            return None
        return Conversion(rate.points, minor(rate.amount, currency, "store_credit.conversion"), rate.minimum_points)
