"""WooCommerce's published order and customer objects (tests/fixtures/webhooks/SOURCES.md), which its webhooks
deliver, through the real endpoint: the unsigned creation ping is answered, an order earns when its status is one the
program earns on, the same state delivered again does nothing twice, its refunds array takes back each refund's
amount, and refunded or cancelled takes back what is left; a wrong signature changes nothing."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from punchcard.integration import service as integrations
from punchcard.integration.service import Provider
from punchcard.kit.db import unit_of_work
from punchcard.ledger.verify import verify
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, error_of, process_accepted

SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "webhooks" / "woocommerce"
SECRET = "woocommerce-webhook-secret"
JOAO = "woocommerce:26"  # order 723's customer


def sample(name: str) -> bytes:
    return (SAMPLES / name).read_bytes()


def order(name: str = "order_with_refunds.json", **changes: Any) -> bytes:
    return json.dumps({**json.loads(sample(name)), **changes}).encode()


@pytest.fixture
def shop(make_program: ProgramMaker, engine: Engine) -> ApiClient:
    api = make_program({"currency": "USD"})
    with unit_of_work(engine) as session:
        integrations.set_secret(session, api.program_id, Provider.WOOCOMMERCE, SECRET, keep_previous=False, now=NOW)
    return api


def deliver(api: ApiClient, topic: str, body: bytes, delivery: str, *, secret: str = SECRET) -> httpx.Response:
    signature = base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()
    headers = {
        "X-WC-Webhook-Topic": topic,
        "X-WC-Webhook-Delivery-ID": delivery,
        "X-WC-Webhook-Signature": signature,
        "X-WC-Webhook-Source": "https://example.com/",
        "Content-Type": "application/json",
    }
    response: httpx.Response = api.client.post(
        f"/integrations/woocommerce/{api.slug}/webhooks", content=body, headers=headers
    )
    return response


def test_the_creation_ping_is_answered_without_a_signature(shop: ApiClient) -> None:
    answer = shop.client.post(
        f"/integrations/woocommerce/{shop.slug}/webhooks",
        content=b"webhook_id=17",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )

    assert (answer.status_code, answer.json()) == (200, {"ping": True})


def test_a_completed_order_earns_and_its_refunds_take_back_their_amounts(shop: ApiClient, engine: Engine) -> None:
    answer = deliver(shop, "order.updated", sample("order_with_refunds.json"), "d-1")

    assert answer.status_code == 200, answer.text
    assert [event["event_id"] for event in answer.json()["events"]] == [
        "woocommerce:order:723",
        "woocommerce:refund:726",
        "woocommerce:refund:724",
    ]
    process_accepted(shop.client)
    member = shop.get(f"/api/v1/members/{JOAO}").json()
    assert (member["email"], member["name"]) == ("joao.silva@example.com", "João Silva")
    # its lines (9.00 and 20.00) earn 29 points; 19.00 of the 39.00 paid came back: 29 × 19/39 = 14.1 points
    assert shop.available(JOAO) == 50 + 29 - 14
    with Session(engine) as session:
        assert verify(session, shop.program_id).is_balanced


def test_the_same_state_delivered_again_does_nothing_twice(shop: ApiClient) -> None:
    completed = order(refunds=[])
    first = deliver(shop, "order.updated", completed, "d-1")
    again = deliver(shop, "order.updated", completed, "d-2")  # WooCommerce sends order.updated on every change

    assert first.json()["events"][0]["status"] == "accepted"
    assert [event["status"] for event in again.json()["events"]] == ["accepted"]  # the same event, accepted once
    process_accepted(shop.client)
    assert shop.available(JOAO) == 50 + 29


def test_an_order_earns_only_in_a_status_the_program_earns_on(
    shop: ApiClient, make_program: ProgramMaker, engine: Engine
) -> None:
    processing = order(status="processing", refunds=[])
    assert deliver(shop, "order.created", processing, "d-1").json()["events"] == []

    early = make_program({"currency": "USD", "shops": {"woocommerce": {"earn_on": ["processing", "completed"]}}})
    with unit_of_work(engine) as session:
        integrations.set_secret(session, early.program_id, Provider.WOOCOMMERCE, SECRET, keep_previous=False, now=NOW)
    assert len(deliver(early, "order.created", processing, "d-1").json()["events"]) == 1


def test_a_cancelled_order_gives_back_what_is_left_once(shop: ApiClient) -> None:
    deliver(shop, "order.updated", order(refunds=[]), "d-1")
    cancelled = deliver(shop, "order.updated", order(status="cancelled", refunds=[]), "d-2")
    again = deliver(shop, "order.updated", order(status="cancelled", refunds=[]), "d-3")
    process_accepted(shop.client)

    assert [event["event_id"] for event in cancelled.json()["events"]] == ["woocommerce:order:723:cancelled"]
    assert again.json()["events"] == []
    assert shop.available(JOAO) == 50


def test_an_order_cancelled_before_it_earned_gives_nothing_back(shop: ApiClient) -> None:
    answer = deliver(shop, "order.updated", order(status="cancelled", refunds=[]), "d-1")

    assert answer.json()["events"] == []
    assert answer.json()["notes"] == ["order 723 cancelled: nothing earned to give back"]


def test_a_guest_order_earns_nothing(shop: ApiClient) -> None:
    answer = deliver(shop, "order.created", order("order_created.json", status="completed"), "d-1")  # customer_id 0

    assert answer.json()["events"] == []
    assert answer.json()["notes"] == ["guest order 727: kept for the figures, earns nothing"]


def test_customers_are_enrolled_and_updated(shop: ApiClient) -> None:
    assert deliver(shop, "customer.created", sample("customer_created.json"), "d-1").status_code == 200
    assert deliver(shop, "customer.updated", sample("customer_updated.json"), "d-2").status_code == 200

    created = json.loads(sample("customer_created.json"))
    updated = json.loads(sample("customer_updated.json"))
    member = shop.get(f"/api/v1/members/woocommerce:{created['id']}").json()
    assert (member["email"], member["name"]) == (updated["email"], f"{updated['first_name']} {updated['last_name']}")


def test_a_wrong_signature_is_refused(shop: ApiClient) -> None:
    error_of(
        deliver(shop, "order.updated", sample("order_with_refunds.json"), "d-1", secret="not-the-secret-at-all"),
        401,
        "webhook_signature_invalid",
    )
    assert shop.get(f"/api/v1/members/{JOAO}").status_code == 404
