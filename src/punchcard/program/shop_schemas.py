"""The program file's ``shops`` section (docs/program-file.md): how a Shopify or WooCommerce shop's orders become
events, turned into ``program.domain.ShopConnection``."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field

from punchcard.program.domain import SHOPIFY_DEFAULT, WOOCOMMERCE_DEFAULT, CategoryBy, ShopConnection
from punchcard.program.file_types import Strict

Prefix = Annotated[str, Field(max_length=40, pattern=r"^[A-Za-z0-9_:.-]*$")]
Category = Annotated[str, Field(max_length=200)]


class CategoriesSpec(Strict):
    by: CategoryBy = CategoryBy.NONE
    map: Annotated[dict[Annotated[str, Field(min_length=1, max_length=200)], Category], Field(max_length=1000)] = {}
    """The value of ``by`` (a product type, a vendor, a sku prefix, a product id) → the category."""

    def pairs(self) -> tuple[tuple[str, str], ...]:
        return tuple(self.map.items())


class ShopifySpec(Strict):
    earn_on: Literal["paid", "create"] = "paid"
    member_ids: Prefix = SHOPIFY_DEFAULT.member_prefix
    categories: CategoriesSpec = CategoriesSpec()

    def to_domain(self) -> ShopConnection:
        return ShopConnection(self.member_ids, (self.earn_on,), self.categories.by, self.categories.pairs())


WooStatus = Literal["pending", "processing", "on-hold", "completed"]


class WooCommerceSpec(Strict):
    earn_on: Annotated[list[WooStatus], Field(min_length=1, max_length=4)] = ["completed"]
    member_ids: Prefix = WOOCOMMERCE_DEFAULT.member_prefix
    categories: CategoriesSpec = CategoriesSpec()

    def to_domain(self) -> ShopConnection:
        return ShopConnection(
            self.member_ids, tuple(dict.fromkeys(self.earn_on)), self.categories.by, self.categories.pairs()
        )


class ShopsSpec(Strict):
    shopify: ShopifySpec = ShopifySpec()
    woocommerce: WooCommerceSpec = WooCommerceSpec()
