"""Reading the platforms' payloads, pure: a line's price after its own discounts, its category by the program's
rule, its sku when it has none, and the signature check."""

from __future__ import annotations

import base64
import hashlib
import hmac
from decimal import Decimal
from typing import Any

import pytest

from punchcard.program.domain import SHOPIFY_DEFAULT, WOOCOMMERCE_DEFAULT, CategoryBy, ShopConnection
from punchcard.shops import shopify, woocommerce
from punchcard.shops.domain import DeliveryUnreadable, Ignored, Sale, category_of, signed, unit_price

ORDER: dict[str, Any] = {
    "id": 7,
    "name": "#1007",
    "currency": "eur",
    "processed_at": "2026-06-01T12:00:00+03:00",
    "customer": {"id": 5, "email": "anna@example.com", "first_name": "Anna", "last_name": "Tamm"},
    "line_items": [
        {
            "id": 1,
            "sku": "BEAN-ETH",
            "quantity": 3,
            "price": Decimal("10.00"),
            "total_discount": Decimal("0.00"),
            "discount_allocations": [{"amount": "1.00"}, {"amount_set": {"shop_money": {"amount": "0.50"}}}],
            "product_type": "Coffee",
        },
        {"id": 2, "sku": "", "variant_id": 99, "quantity": 1, "price": "5.00", "total_discount": "1.25"},
        {"id": 3, "sku": None, "quantity": 2, "current_quantity": 0, "price": "4.00"},
    ],
    "shipping_lines": [{"price": "4.90", "discounted_price": "0.00"}, {"price": "3.00", "is_removed": True}],
}


def read_sale(connection: ShopConnection = SHOPIFY_DEFAULT) -> Sale:
    found = shopify.read("orders/paid", ORDER, connection)
    assert isinstance(found, Sale)
    return found


def test_a_shopify_line_is_priced_after_its_own_discounts_in_the_shops_currency() -> None:
    sale = read_sale()

    assert [(line.sku, line.quantity, line.unit_price) for line in sale.lines] == [
        ("BEAN-ETH", Decimal(3), Decimal("9.500000")),  # 30.00 less 1.50 of allocations, over 3
        ("shopify-variant-99", Decimal(1), Decimal("3.750000")),  # no allocations: its total_discount
    ]  # the third line was removed by an edit (current_quantity 0)
    assert (sale.currency, sale.shipping, sale.paid) == ("EUR", Decimal("0.00"), Decimal("32.25"))
    assert sale.customer is not None
    assert (sale.customer.ref, sale.customer.name, sale.customer.marketing_consent) == ("5", "Anna Tamm", None)


def test_the_category_follows_the_programs_rule() -> None:
    by_type = ShopConnection("shopify:", ("paid",), CategoryBy.PRODUCT_TYPE, (("Coffee", "coffee-beans"),))
    by_prefix = ShopConnection("", ("paid",), CategoryBy.SKU_PREFIX, (("BEAN", "beans"), ("BEAN-ETH", "ethiopia")))

    assert [line.category for line in read_sale(by_type).lines] == ["coffee-beans", ""]
    assert [line.category for line in read_sale(by_prefix).lines] == ["ethiopia", ""]  # the longest prefix
    assert category_of(by_type, sku="X", product_id=None, product_type="Tea", vendor=None) == "Tea"


def test_unit_prices_keep_six_decimals_and_never_go_below_zero() -> None:
    assert unit_price(Decimal("10.00"), Decimal(3), [Decimal("0.01")]) == Decimal("9.996667")
    assert unit_price(Decimal("1.00"), Decimal(1), [Decimal("2.00")]) == Decimal(0)


def test_orders_create_is_ignored_when_the_program_earns_on_payment() -> None:
    assert isinstance(shopify.read("orders/create", ORDER, SHOPIFY_DEFAULT), Ignored)


@pytest.mark.parametrize(
    "broken",
    [{**ORDER, "processed_at": "2026-06-01T12:00:00"}, {**ORDER, "currency": 978}, {**ORDER, "line_items": {}}],
    ids=["a time without its zone", "a currency that is not a code", "lines that are not a list"],
)
def test_a_payload_of_another_shape_is_unreadable(broken: dict[str, Any]) -> None:
    with pytest.raises(DeliveryUnreadable):
        shopify.read("orders/paid", broken, SHOPIFY_DEFAULT)


def test_a_woocommerce_order_refunded_at_once_never_earned_so_gives_nothing_back_in_this_delivery() -> None:
    order = {
        "id": 9,
        "status": "refunded",
        "currency": "EUR",
        "date_modified_gmt": "2026-06-02T10:00:00",
        "customer_id": 4,
        "line_items": [{"sku": "", "product_id": 8, "variation_id": 2, "quantity": 2, "total": "7.00"}],
        "refunds": [{"id": 11, "total": "-3.00"}],
    }

    [given, cancelled] = woocommerce.read("order.updated", order, WOOCOMMERCE_DEFAULT)

    assert (given.amount, given.occurred_at.isoformat()) == (Decimal("3.00"), "2026-06-02T10:00:00+00:00")  # type: ignore[union-attr]
    assert cancelled.why == "refunded"  # type: ignore[union-attr]


def test_the_signature_is_the_base64_hmac_of_the_raw_body() -> None:
    body = b'{"id": 1}'
    good = base64.b64encode(hmac.new(b"secret", body, hashlib.sha256).digest()).decode()

    assert signed("secret", body, good)
    assert not signed("secret", body + b" ", good)
    assert not signed("secret", body, None)
