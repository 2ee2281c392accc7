"""Shopify's webhook payloads (REST Admin API shapes, as the webhook reference publishes them) read into
instructions. Pure: the topic and the parsed JSON (amounts parsed as ``Decimal``) come in.

- ``orders/paid`` (or ``orders/create``, when the program earns on creation) is a sale: each line's sku (or, without
  one, its variant or line id), its category by the program's rule, its quantity still on the order
  (``current_quantity``), its price less its discount allocations (``total_discount`` when there are none), in the
  shop's currency (``shop_money``); the shipping lines at their discounted price; the customer; ``processed_at``.
  An order without a customer is a guest order.
- ``orders/cancelled`` gives back what is left of the order.
- ``refunds/create`` gives back its refund line items at the sale's unit prices (``line_item`` carries them) or, with
  none, the amount of its successful ``refund`` transactions.
- ``customers/create`` and ``customers/update`` enrol or update the customer's member.
- ``customers/data_request``, ``customers/redact`` and ``shop/redact``, the mandatory privacy topics.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from punchcard.program.domain import ShopConnection
from punchcard.rules.domain import Line
from punchcard.shops.domain import (
    Cancellation,
    Customer,
    DeliveryUnreadable,
    Ignored,
    Instruction,
    PrivacyRequest,
    Return,
    Sale,
    category_of,
    ident,
    moment,
    money,
    objects,
    unit_price,
)

ORDER_TOPICS = ("orders/create", "orders/paid")
TOPICS = (
    *ORDER_TOPICS,
    "orders/cancelled",
    "refunds/create",
    "customers/create",
    "customers/update",
    "customers/data_request",
    "customers/redact",
    "shop/redact",
)


def read(topic: str, payload: Any, connection: ShopConnection) -> Instruction:
    """What a delivery of ``topic`` asks for; ``DeliveryUnreadable`` when the payload is not of its shape."""
    if not isinstance(payload, dict):
        raise DeliveryUnreadable("the body is not a JSON object")
    if topic in ORDER_TOPICS:
        if topic.removeprefix("orders/") not in connection.earn_on:
            return Ignored(f"{topic}: this program earns on orders/{connection.earn_on[0]}")
        return sale(payload, connection)
    if topic == "orders/cancelled":
        return Cancellation(ident(payload, "id"), moment(payload, "cancelled_at", "updated_at"), "cancelled")
    if topic == "refunds/create":
        return refund(payload, connection)
    if topic in ("customers/create", "customers/update"):
        return customer(payload)
    if topic == "customers/data_request":
        return PrivacyRequest(
            "data_request", ident(_object(payload, "customer"), "id"), _orders(payload, "orders_requested")
        )
    if topic == "customers/redact":
        return PrivacyRequest("redact", ident(_object(payload, "customer"), "id"), _orders(payload, "orders_to_redact"))
    if topic == "shop/redact":
        return PrivacyRequest("shop_redact", None)
    return Ignored(f"{topic}: not a topic Punchcard reads")


def sale(order: dict[str, Any], connection: ShopConnection) -> Sale:
    lines = tuple(line for item in objects(order, "line_items") if (line := _line(item, connection)) is not None)
    shipping = sum(
        (money(_either(item, "discounted_price", "price"), "shipping_lines[].price") for item in _shipping(order)),
        Decimal(0),
    )
    buyer = order.get("customer")
    return Sale(
        order_ref=ident(order, "id"),
        name=str(order.get("name") or order["id"]),
        occurred_at=moment(order, "processed_at", "created_at"),
        currency=_currency(order),
        lines=lines,
        shipping=shipping,
        customer=customer(buyer) if isinstance(buyer, dict) and buyer.get("id") is not None else None,
    )


def refund(payload: dict[str, Any], connection: ShopConnection) -> Return | Ignored:
    lines = tuple(
        line for item in objects(payload, "refund_line_items") if (line := _refunded_line(item, connection)) is not None
    )
    at = moment(payload, "processed_at", "created_at")
    refund_ref, order_ref = ident(payload, "id"), ident(payload, "order_id")
    if lines:
        return Return(refund_ref, order_ref, at, lines=lines)
    amount = sum(
        (
            money(transaction.get("amount"), "transactions[].amount")
            for transaction in objects(payload, "transactions")
            if transaction.get("kind") == "refund" and transaction.get("status") == "success"
        ),
        Decimal(0),
    )
    if amount <= 0:
        return Ignored("refunds/create: no line and no money given back (a restock or an adjustment)")
    return Return(refund_ref, order_ref, at, amount=amount)


def customer(payload: dict[str, Any]) -> Customer:
    names = [str(payload[key]).strip() for key in ("first_name", "last_name") if payload.get(key)]
    consent = payload.get("email_marketing_consent")
    if isinstance(consent, dict) and consent.get("state"):
        agreed: bool | None = consent["state"] == "subscribed"
    else:
        agreed = payload.get("accepts_marketing") if isinstance(payload.get("accepts_marketing"), bool) else None
    created = payload.get("created_at")
    return Customer(
        ref=ident(payload, "id"),
        email=str(payload["email"]).strip() or None if payload.get("email") else None,
        name=" ".join(names) or None,
        marketing_consent=agreed,
        created_at=moment(payload, "created_at") if created else None,
    )


def sku_of(item: dict[str, Any]) -> str:
    """A line's sku; without one, its variant's id or its own (refunds name the same line the same way)."""
    if item.get("sku"):
        return str(item["sku"])[:200]
    if item.get("variant_id") is not None:
        return f"shopify-variant-{item['variant_id']}"
    return f"shopify-line-{ident(item, 'id')}"


def _line(item: dict[str, Any], connection: ShopConnection) -> Line | None:
    quantity = Decimal(str(item.get("current_quantity", item.get("quantity", 0))))
    if quantity <= 0:
        return None  # removed from the order by an edit
    ordered = Decimal(str(item.get("quantity") or quantity))
    price = _shop_amount(item, "price", "price_set")
    allocations = item.get("discount_allocations") or []
    discounts = [_shop_amount(allocation, "amount", "amount_set") for allocation in allocations]
    if not discounts:
        discounts = [_shop_amount(item, "total_discount", "total_discount_set")]
    per_unit = unit_price(price, ordered, discounts)
    sku = sku_of(item)
    category = category_of(
        connection,
        sku=sku,
        product_id=str(item["product_id"]) if item.get("product_id") is not None else None,
        product_type=item.get("product_type") or None,
        vendor=item.get("vendor") or None,
    )
    if item.get("gift_card") is True and not category:
        category = "gift-cards"
    return Line(sku, category, quantity, per_unit)


def _refunded_line(item: dict[str, Any], connection: ShopConnection) -> Line | None:
    line_item = item.get("line_item")
    quantity = Decimal(str(item.get("quantity") or 0))
    if not isinstance(line_item, dict) or quantity <= 0:
        return None
    sold = _line({**line_item, "current_quantity": line_item.get("quantity", quantity)}, connection)
    return Line(sold.sku, sold.category, quantity, sold.unit_price) if sold is not None else None


def _shop_amount(item: dict[str, Any], key: str, money_set: str) -> Decimal:
    """An amount in the shop's currency: the ``*_set``'s ``shop_money`` when the payload has it, else the plain
    field (which is in the shop's currency too)."""
    found = item.get(money_set)
    if isinstance(found, dict) and isinstance(found.get("shop_money"), dict):
        return money(found["shop_money"].get("amount"), f"{money_set}.shop_money.amount")
    return money(item.get(key, "0"), key)


def _shipping(order: dict[str, Any]) -> list[dict[str, Any]]:
    return [item for item in objects(order, "shipping_lines") if not item.get("is_removed")]


def _currency(order: dict[str, Any]) -> str:
    currency = order.get("currency")
    if not isinstance(currency, str) or len(currency) != 3:
        raise DeliveryUnreadable("currency is not a three-letter code")
    return currency.upper()


def _orders(payload: dict[str, Any], key: str) -> tuple[str, ...]:
    found = payload.get(key) or []
    return tuple(str(order) for order in found) if isinstance(found, list) else ()


def _object(payload: dict[str, Any], key: str) -> dict[str, Any]:
    found = payload.get(key)
    if not isinstance(found, dict):
        raise DeliveryUnreadable(f"{key} is not an object")
    return found


def _either(payload: dict[str, Any], first: str, second: str) -> object:
    return payload[first] if payload.get(first) is not None else payload.get(second, "0")
