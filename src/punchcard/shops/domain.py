"""Pure rules shared by the shop-platform connectors (Shopify, WooCommerce): verifying a delivery's signature, what a
delivery asks for once read (``Instruction``), and how an order line's category is found.

A platform's payload is read by its own module (``shops.shopify``, ``shops.woocommerce``) into these instructions;
the service turns them into members and events. Amounts are ``Decimal`` in the shop's currency, never floats: the
payloads carry them as strings (and a few as JSON numbers, read from their text).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum
from typing import Any

from punchcard.program.domain import CategoryBy, ShopConnection
from punchcard.rules.domain import Line

UNIT_PRICE_PLACES = Decimal("0.000001")
"""A line's price after its discounts, per unit, is kept to six decimals (what an event's ``unit_price`` holds)."""


class Platform(StrEnum):
    SHOPIFY = "shopify"
    WOOCOMMERCE = "woocommerce"


def signed(secret: str, body: bytes, signature: str | None) -> bool:
    """Whether ``signature`` is the base64 HMAC-SHA256 of the raw ``body`` under ``secret`` (both platforms sign so),
    compared in constant time."""
    if not signature:
        return False
    expected = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    return hmac.compare_digest(expected.encode(), signature.strip().encode())


class DeliveryUnreadable(Exception):
    """The payload is not what the topic's deliveries look like; the message says what is wrong."""


@dataclass(frozen=True)
class Customer:
    ref: str
    """The platform's customer id, as text."""
    email: str | None
    name: str | None
    marketing_consent: bool | None
    """``None``: the payload does not say."""
    created_at: datetime | None = None


@dataclass(frozen=True)
class Sale:
    """An order that earns (or, without a customer, a guest order kept for the figures)."""

    order_ref: str
    name: str
    occurred_at: datetime
    currency: str
    lines: tuple[Line, ...]
    """The rules' lines, each priced after its own discounts."""
    shipping: Decimal
    customer: Customer | None

    @property
    def paid(self) -> Decimal:
        return sum((line.value for line in self.lines), self.shipping)


@dataclass(frozen=True)
class Return:
    """Part of an order given back: lines (by sku and quantity, at the sale's unit prices) or an amount."""

    refund_ref: str
    order_ref: str
    occurred_at: datetime
    lines: tuple[Line, ...] = ()
    amount: Decimal | None = None

    @property
    def value(self) -> Decimal:
        return self.amount if self.amount is not None else sum((line.value for line in self.lines), Decimal(0))


@dataclass(frozen=True)
class Cancellation:
    """The whole order is off (cancelled, or refunded in full): what has not been given back yet goes back."""

    order_ref: str
    occurred_at: datetime
    why: str


@dataclass(frozen=True)
class PrivacyRequest:
    """A platform's privacy topic: a customer's data asked for or to be erased, or the whole shop's (``shop``)."""

    kind: str
    """``data_request``, ``redact`` or ``shop_redact``."""
    customer_ref: str | None
    orders: tuple[str, ...] = ()


@dataclass(frozen=True)
class Ignored:
    why: str


Instruction = Customer | Sale | Return | Cancellation | PrivacyRequest | Ignored


def category_of(
    connection: ShopConnection, *, sku: str, product_id: str | None, product_type: str | None, vendor: str | None
) -> str:
    """The category a line's rules see: by the program's ``categories.by``; a product type or vendor that is not
    mapped is its own category, a sku prefix or product id that is not mapped is none."""
    mapped = dict(connection.categories)
    by = connection.category_by
    if by is CategoryBy.PRODUCT_TYPE and product_type:
        return mapped.get(product_type, product_type)
    if by is CategoryBy.VENDOR and vendor:
        return mapped.get(vendor, vendor)
    if by is CategoryBy.PRODUCT_ID and product_id:
        return mapped.get(product_id, "")
    if by is CategoryBy.SKU_PREFIX:
        prefixes = sorted((prefix for prefix in mapped if sku.startswith(prefix)), key=len, reverse=True)
        return mapped[prefixes[0]] if prefixes else ""
    return ""


def unit_price(price: Decimal, quantity: Decimal, discounts: Iterable[Decimal]) -> Decimal:
    """What one unit of a line paid after the line's discounts."""
    net = price * quantity - sum(discounts, Decimal(0))
    return max(net / quantity, Decimal(0)).quantize(UNIT_PRICE_PLACES, ROUND_HALF_EVEN)


def money(value: object, where: str) -> Decimal:
    """An amount as a payload writes it (``"12.50"``, or a JSON number kept as its text); refused otherwise."""
    if isinstance(value, bool) or value is None:
        raise DeliveryUnreadable(f"{where} is not an amount")
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        raise DeliveryUnreadable(f"{where} is not an amount: {value!r}") from None
    if not amount.is_finite():
        raise DeliveryUnreadable(f"{where} is not an amount: {value!r}")
    return amount


def objects(payload: dict[str, Any], key: str) -> list[dict[str, Any]]:
    """``payload[key]``, a list of objects (none when absent)."""
    found = payload.get(key)
    if found is None:
        return []
    if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
        raise DeliveryUnreadable(f"{key} is not a list of objects")
    return found


def ident(payload: dict[str, Any], key: str) -> str:
    """An id (a number or a string) as text."""
    found = payload.get(key)
    if isinstance(found, bool) or not isinstance(found, int | str) or str(found) == "":
        raise DeliveryUnreadable(f"{key} is missing")
    return str(found)


def moment(payload: dict[str, Any], *keys: str, naive_is_utc: bool = False) -> datetime:
    """The first of ``keys`` present, as an aware moment; a time without an offset is UTC where the platform says
    so (WooCommerce's ``*_gmt``) and refused elsewhere."""
    for key in keys:
        text = payload.get(key)
        if isinstance(text, str) and text:
            try:
                found = datetime.fromisoformat(text)
            except ValueError:
                raise DeliveryUnreadable(f"{key} is not a date and time: {text!r}") from None
            if found.tzinfo is None:
                if not naive_is_utc:
                    raise DeliveryUnreadable(f"{key} has no time zone: {text!r}")
                found = found.replace(tzinfo=UTC)
            return found
    raise DeliveryUnreadable(f"{' or '.join(keys)} is missing")
