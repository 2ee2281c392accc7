"""Shopify's published sample deliveries, byte for byte (tests/fixtures/webhooks/SOURCES.md), through the real
endpoint: verified before anything is read, applied once per webhook id, the order earning its points once the
intake's workers have processed it, the sample refund taking them back, customers enrolled and updated; a wrong
signature, an unknown program or shop, and a malformed body change nothing and never answer 500."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from punchcard.intake.models import IntakeEvent
from punchcard.integration import service as integrations
from punchcard.integration.service import Provider
from punchcard.kit.db import unit_of_work
from punchcard.ledger.verify import verify
from punchcard.shops.models import ShopDelivery
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, error_of, process_accepted

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks" / "shopify"
SECRET = "shpss_a-test-app-client-secret"
BUYER = "shopify:115310627314723954"  # the sample order's customer
ORDER = "820982911946154508"
SAMPLE_LINES = 41495  # the sample order's five lines, in cents: 89.99 + 19.99 + 24.99 + 159.99 + 119.99


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def signature(body: bytes, secret: str = SECRET) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def connect(engine: Engine, api: ApiClient, shop_domain: str | None = None) -> None:
    with unit_of_work(engine) as session:
        integrations.set_secret(
            session, api.program_id, Provider.SHOPIFY, SECRET, keep_previous=False, now=NOW, account=shop_domain
        )


@pytest.fixture
def shop(make_program: ProgramMaker, engine: Engine) -> ApiClient:
    """A program in the sample's currency, connected to a Shopify shop."""
    api = make_program({"currency": "USD"})
    connect(engine, api)
    return api


def deliver(
    api: ApiClient,
    topic: str,
    body: bytes,
    webhook_id: str,
    *,
    sign: str | None = None,
    slug: str | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    sent = {
        "X-Shopify-Topic": topic,
        "X-Shopify-Webhook-Id": webhook_id,
        "X-Shopify-Hmac-Sha256": signature(body) if sign is None else sign,
        "X-Shopify-Shop-Domain": "punchcard-test.myshopify.com",
        "Content-Type": "application/json",
        **(headers or {}),
    }
    response: httpx.Response = api.client.post(
        f"/integrations/shopify/{slug or api.slug}/webhooks", content=body, headers=sent
    )
    return response


def kept(engine: Engine, api: ApiClient) -> tuple[int, int]:
    """How many deliveries and accepted events the program has."""
    with Session(engine) as session:
        deliveries = session.execute(select(func.count()).where(ShopDelivery.program_id == api.program_id)).scalar_one()
        accepted = session.execute(select(func.count()).where(IntakeEvent.program_id == api.program_id)).scalar_one()
    return int(deliveries), int(accepted)


def order_points(api: ApiClient, member: str, kind: str) -> int:
    """The points the sample order moved on the member's balance, of one kind of entry (``earn``, ``reverse``)."""
    items = api.get(f"/api/v1/members/{member}/ledger", params={"limit": 100}).json()["items"]
    return sum(
        item["points"]
        for item in items
        if item["kind"] == kind and item["order_id"] == ORDER and item["account"] == "points"
    )


def purchase_points(api: ApiClient, member: str) -> int:
    return order_points(api, member, "earn")


def test_the_sample_paid_order_earns_its_points_once_processed(shop: ApiClient, engine: Engine) -> None:
    answer = deliver(shop, "orders/paid", sample("orders_paid.json"), "wh-1")

    assert answer.status_code == 200, answer.text
    [event] = answer.json()["events"]
    assert (event["event_id"], event["status"]) == (f"shopify:order:{ORDER}", "accepted")
    assert process_accepted(shop.client) == 1
    member = shop.get(f"/api/v1/members/{BUYER}").json()
    assert member["email"] == "john@example.com"
    assert purchase_points(shop, BUYER) == SAMPLE_LINES // 100  # 1 point per dollar of its lines, shipping not
    with Session(engine) as session:
        assert verify(session, shop.program_id).is_balanced


def test_a_delivery_sent_again_is_answered_as_the_first_and_earns_once(shop: ApiClient, engine: Engine) -> None:
    first = deliver(shop, "orders/paid", sample("orders_paid.json"), "wh-1")
    again = deliver(shop, "orders/paid", sample("orders_paid.json"), "wh-1")
    other_id = deliver(shop, "orders/paid", sample("orders_paid.json"), "wh-2")  # the same order, a new delivery

    assert again.json() == {**first.json(), "duplicate": True}
    assert other_id.status_code == 200
    process_accepted(shop.client)
    assert purchase_points(shop, BUYER) == SAMPLE_LINES // 100
    assert kept(engine, shop) == (2, 1)


def test_orders_create_is_ignored_unless_the_program_earns_on_creation(
    shop: ApiClient, make_program: ProgramMaker, engine: Engine
) -> None:
    ignored = deliver(shop, "orders/create", sample("orders_create.json"), "wh-c")
    assert ignored.json()["events"] == []
    assert "this program earns on orders/paid" in ignored.json()["notes"][0]

    on_create = make_program({"currency": "USD", "shops": {"shopify": {"earn_on": "create"}}})
    connect(engine, on_create)
    assert deliver(on_create, "orders/create", sample("orders_create.json"), "wh-c").json()["events"]
    assert deliver(on_create, "orders/paid", sample("orders_paid.json"), "wh-p").json()["events"] == []
    process_accepted(on_create.client)
    assert purchase_points(on_create, BUYER) == SAMPLE_LINES // 100


def test_the_sample_refund_takes_back_what_its_lines_earned(shop: ApiClient, engine: Engine) -> None:
    deliver(shop, "orders/paid", sample("orders_paid.json"), "wh-1")
    process_accepted(shop.client)
    before = shop.available(BUYER)

    answer = deliver(shop, "refunds/create", sample("refunds_create.json"), "wh-r")

    assert answer.status_code == 200, answer.text
    assert [event["event_id"] for event in answer.json()["events"]] == ["shopify:refund:890088186047892319"]
    process_accepted(shop.client)
    assert shop.available(BUYER) == before - SAMPLE_LINES // 100  # all five lines came back
    # cancelled after: only its shipping was left to give back, and no point rests on shipping
    [left] = deliver(shop, "orders/cancelled", sample("orders_cancelled.json"), "wh-x").json()["events"]
    assert left["event_id"] == f"shopify:order:{ORDER}:cancelled"
    process_accepted(shop.client)
    assert shop.available(BUYER) == before - SAMPLE_LINES // 100
    with Session(engine) as session:
        assert verify(session, shop.program_id).is_balanced


def test_an_amount_only_refund_takes_back_its_share_and_a_cancellation_the_rest(shop: ApiClient) -> None:
    deliver(shop, "orders/paid", sample("orders_paid.json"), "wh-1")
    refund = json.loads(sample("refunds_create.json"))
    refund["refund_line_items"] = []  # only the money: its two successful transactions, 85.00
    deliver(shop, "refunds/create", json.dumps(refund).encode(), "wh-r")
    cancelled = deliver(shop, "orders/cancelled", sample("orders_cancelled.json"), "wh-x")
    process_accepted(shop.client)

    [event] = cancelled.json()["events"]
    assert event["event_id"] == f"shopify:order:{ORDER}:cancelled"
    assert purchase_points(shop, BUYER) == SAMPLE_LINES // 100
    assert order_points(shop, BUYER, "reverse") == -(SAMPLE_LINES // 100)  # 85.00 first, the rest at cancellation


def test_a_refund_of_an_order_not_received_yet_is_refused_so_shopify_sends_it_again(
    shop: ApiClient, engine: Engine
) -> None:
    answer = deliver(shop, "refunds/create", sample("refunds_create.json"), "wh-r")

    error_of(answer, 409, "shop_order_unknown")
    assert kept(engine, shop) == (0, 0)
    deliver(shop, "orders/paid", sample("orders_paid.json"), "wh-1")
    assert deliver(shop, "refunds/create", sample("refunds_create.json"), "wh-r").status_code == 200


def test_customers_are_enrolled_and_updated_with_their_consent(shop: ApiClient) -> None:
    created = json.loads(sample("customers_create.json"))
    assert deliver(shop, "customers/create", sample("customers_create.json"), "wh-a").status_code == 200
    member = shop.get("/api/v1/members/shopify:706405506930370084").json()
    assert (member["email"], member["name"], member["marketing_consent"]) == ("bob@biller.com", "Bob Biller", False)

    updated = {**created, "email": "bob@new.example", "email_marketing_consent": {"state": "subscribed"}}
    assert deliver(shop, "customers/update", json.dumps(updated).encode(), "wh-b").status_code == 200
    member = shop.get("/api/v1/members/shopify:706405506930370084").json()
    assert (member["email"], member["marketing_consent"]) == ("bob@new.example", True)


def test_an_order_without_a_customer_is_kept_as_a_guest_order_and_earns_nothing(
    shop: ApiClient, engine: Engine
) -> None:
    order: dict[str, Any] = json.loads(sample("orders_paid.json"))
    order["customer"] = None

    answer = deliver(shop, "orders/paid", json.dumps(order).encode(), "wh-g")

    assert answer.json()["events"] == []
    assert answer.json()["notes"] == [f"guest order {ORDER}: kept for the figures, earns nothing"]
    assert shop.get(f"/api/v1/members/{BUYER}").status_code == 404


@pytest.mark.parametrize(
    "sign",
    [signature(sample("orders_paid.json"), "another-secret-entirely"), "", "bm90IGEgc2lnbmF0dXJl"],
    ids=["another secret", "empty", "garbage"],
)
def test_a_wrong_or_missing_signature_is_refused_and_nothing_is_kept(
    shop: ApiClient, engine: Engine, sign: str
) -> None:
    error_of(
        deliver(shop, "orders/paid", sample("orders_paid.json"), "wh-1", sign=sign), 401, "webhook_signature_invalid"
    )
    assert kept(engine, shop) == (0, 0)


def test_a_tampered_body_does_not_verify(shop: ApiClient, engine: Engine) -> None:
    body = sample("orders_paid.json")
    tampered = body.replace(b'"89.99"', b'"8999.99"', 1)

    error_of(deliver(shop, "orders/paid", tampered, "wh-1", sign=signature(body)), 401, "webhook_signature_invalid")
    assert kept(engine, shop) == (0, 0)


def test_a_program_without_shopify_or_unknown_is_not_found(shop: ApiClient, make_program: ProgramMaker) -> None:
    error_of(deliver(make_program(), "orders/paid", sample("orders_paid.json"), "wh-1"), 404, "shop_not_connected")
    error_of(deliver(shop, "orders/paid", sample("orders_paid.json"), "wh-1", slug="no-such"), 404, "program_not_found")


def test_a_delivery_from_another_shop_than_the_one_connected_is_refused(
    make_program: ProgramMaker, engine: Engine
) -> None:
    api = make_program({"currency": "USD"})
    connect(engine, api, shop_domain="the-real-shop.myshopify.com")

    error_of(deliver(api, "orders/paid", sample("orders_paid.json"), "wh-1"), 401, "webhook_signature_invalid")
    headers = {"X-Shopify-Shop-Domain": "the-real-shop.myshopify.com"}
    assert deliver(api, "orders/paid", sample("orders_paid.json"), "wh-1", headers=headers).status_code == 200


@pytest.mark.parametrize(
    ("body", "headers"),
    [
        (b"{not json", {}),
        (b"[1, 2]", {}),
        (b'{"id": 1, "line_items": "none", "currency": "USD", "processed_at": "2026-01-01T00:00:00Z"}', {}),
        (b'{"id": 1, "currency": "USD", "processed_at": "yesterday"}', {}),
        (sample("orders_paid.json"), {"X-Shopify-Topic": ""}),
    ],
    ids=["not json", "not an object", "lines not a list", "a bad date", "no topic"],
)
def test_a_malformed_delivery_is_a_clear_400_and_changes_nothing(
    shop: ApiClient, engine: Engine, body: bytes, headers: dict[str, str]
) -> None:
    answer = deliver(shop, "orders/paid", body, "wh-bad", headers=headers)

    error = error_of(answer, 400, "webhook_unreadable")
    assert error["message"]
    assert kept(engine, shop) == (0, 0)


def test_a_topic_punchcard_does_not_read_is_acknowledged(shop: ApiClient) -> None:
    answer = deliver(shop, "products/update", b'{"id": 1}', "wh-p")

    assert answer.status_code == 200
    assert answer.json()["notes"] == ["ignored: products/update: not a topic Punchcard reads"]


def test_an_order_in_another_currency_is_acknowledged_and_refused_as_an_event(
    make_program: ProgramMaker, engine: Engine
) -> None:
    euros = make_program()  # the sample order is in dollars
    connect(engine, euros)

    answer = deliver(euros, "orders/paid", sample("orders_paid.json"), "wh-1")

    assert answer.status_code == 200  # Shopify would send it again for hours otherwise
    assert answer.json()["events"][0]["error"]["code"] == "currency_mismatch"


def test_a_customers_redact_erases_the_customers_member_and_a_data_request_is_noted(shop: ApiClient) -> None:
    deliver(shop, "orders/paid", sample("orders_paid.json"), "wh-1")
    redact = json.loads(sample("customers_redact.json"))
    redact["customer"]["id"] = 115310627314723954  # the sample order's customer (the sample names another)

    asked = deliver(shop, "customers/data_request", sample("customers_data_request.json"), "wh-d")
    erased = deliver(shop, "customers/redact", json.dumps(redact).encode(), "wh-e")

    assert asked.json()["notes"][-1].startswith("data request for customer 191167")
    assert erased.json()["notes"] == ["privacy request redact", "redact: 1 member erased"]
    error_of(shop.get(f"/api/v1/members/{BUYER}"), 410, "member_erased")


def test_a_shop_redact_erases_every_member_the_shop_brought(shop: ApiClient) -> None:
    deliver(shop, "orders/paid", sample("orders_paid.json"), "wh-1")
    deliver(shop, "customers/create", sample("customers_create.json"), "wh-2")
    kept = shop.member("not-from-the-shop")

    answer = deliver(shop, "shop/redact", sample("shop_redact.json"), "wh-s")

    assert answer.json()["notes"] == ["privacy request shop_redact", "shop_redact: 2 members erased"]
    assert shop.get(f"/api/v1/members/{kept}").status_code == 200
