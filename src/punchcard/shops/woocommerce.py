"""WooCommerce's webhook payloads (the REST API v3 order and customer objects, which its webhooks deliver) read into
instructions. Pure: the topic and the parsed JSON (amounts parsed as ``Decimal``) come in.

An order's topic says little (``order.created`` and ``order.updated`` carry the whole order); its **status** decides:
a status the program earns on (``completed`` by default) is a sale, ``refunded`` and ``cancelled`` give back what is
left, and each entry of the order's ``refunds`` is a partial refund of its amount. Every one of these is keyed by the
order or the refund, so the same state delivered again (WooCommerce sends ``order.updated`` on every change) does
nothing twice. A line is its sku (or, without one, its product and variation), its category by the program's rule,
and its ``total`` (after coupons, before tax) spread over its quantity; dates are the ``*_gmt`` ones, in UTC.
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
    Return,
    Sale,
    category_of,
    ident,
    moment,
    money,
    objects,
    unit_price,
)

ORDER_TOPICS = ("order.created", "order.updated")
CUSTOMER_TOPICS = ("customer.created", "customer.updated")
GIVEN_BACK = ("refunded", "cancelled")


def read(topic: str, payload: Any, connection: ShopConnection) -> list[Instruction]:
    """What a delivery of ``topic`` asks for, in order; ``DeliveryUnreadable`` when the payload is not of its
    shape."""
    if not isinstance(payload, dict):
        raise DeliveryUnreadable("the body is not a JSON object")
    if topic in CUSTOMER_TOPICS:
        return [customer(payload)]
    if topic not in ORDER_TOPICS:
        return [Ignored(f"{topic}: not a topic Punchcard reads")]
    status = payload.get("status")
    if not isinstance(status, str):
        raise DeliveryUnreadable("status is missing")
    order_ref = ident(payload, "id")
    found: list[Instruction] = []
    if status in connection.earn_on:
        found.append(sale(payload, connection))
    found += [
        Return(
            ident(item, "id"),
            order_ref,
            moment(payload, "date_modified_gmt", naive_is_utc=True),
            amount=-money(item.get("total"), "refunds[].total"),
        )
        for item in objects(payload, "refunds")
        if money(item.get("total"), "refunds[].total") < 0
    ]
    if status in GIVEN_BACK:
        found.append(
            Cancellation(order_ref, moment(payload, "date_modified_gmt", "date_created_gmt", naive_is_utc=True), status)
        )
    return found or [Ignored(f"{topic}: status {status!r} neither earns nor gives back")]


def sale(order: dict[str, Any], connection: ShopConnection) -> Sale:
    buyer_ref = order.get("customer_id")
    found = order.get("billing")
    billing: dict[str, Any] = found if isinstance(found, dict) else {}
    buyer = None
    if isinstance(buyer_ref, int) and not isinstance(buyer_ref, bool) and buyer_ref > 0:
        names = [str(billing[key]).strip() for key in ("first_name", "last_name") if billing.get(key)]
        buyer = Customer(str(buyer_ref), billing.get("email") or None, " ".join(names) or None, None)
    currency = order.get("currency")
    if not isinstance(currency, str) or len(currency) != 3:
        raise DeliveryUnreadable("currency is not a three-letter code")
    return Sale(
        order_ref=ident(order, "id"),
        name=str(order.get("number") or order["id"]),
        occurred_at=moment(order, "date_paid_gmt", "date_completed_gmt", "date_created_gmt", naive_is_utc=True),
        currency=currency.upper(),
        lines=tuple(line for item in objects(order, "line_items") if (line := _line(item, connection)) is not None),
        shipping=sum(
            (money(item.get("total"), "shipping_lines[].total") for item in objects(order, "shipping_lines")),
            Decimal(0),
        ),
        customer=buyer,
    )


def customer(payload: dict[str, Any]) -> Customer:
    names = [str(payload[key]).strip() for key in ("first_name", "last_name") if payload.get(key)]
    return Customer(
        ref=ident(payload, "id"),
        email=payload.get("email") or None,
        name=" ".join(names) or None,
        marketing_consent=None,  # WooCommerce itself keeps no marketing consent
        created_at=moment(payload, "date_created_gmt", naive_is_utc=True) if payload.get("date_created_gmt") else None,
    )


def _line(item: dict[str, Any], connection: ShopConnection) -> Line | None:
    quantity = Decimal(str(item.get("quantity") or 0))
    if quantity <= 0:
        return None
    product = item.get("product_id")
    variation = item.get("variation_id")
    sku = str(item.get("sku") or "")[:200] or (
        f"woocommerce-product-{product}" + (f"-{variation}" if variation else "")
    )
    total = money(item.get("total"), "line_items[].total")
    category = category_of(
        connection,
        sku=sku,
        product_id=str(product) if product is not None else None,
        product_type=None,
        vendor=None,
    )
    return Line(sku, category, quantity, unit_price(total, quantity, ()) if quantity else Decimal(0))
