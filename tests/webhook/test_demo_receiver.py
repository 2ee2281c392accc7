"""The demo's webhook receiver page lists what it received, each delivery's signature checked with the demo
webhook's secret; it exists only in the demo."""

from __future__ import annotations

import json
import time

from fastapi.testclient import TestClient

from punchcard.api.app import create_app
from punchcard.kit.settings import Settings
from punchcard.webhook.domain import signature


def test_the_demo_receiver_checks_each_signature(database_url: str) -> None:
    secret = "whsec_demo"
    app = create_app(Settings(database_url=database_url, demo_webhook_secret=secret, outbox_poll_seconds=0))
    with TestClient(app) as client:
        body = json.dumps({"id": "7", "type": "points.earned", "data": {"member": "c-1", "payload": {"points": 5}}})
        signed = signature(secret, int(time.time()), body.encode())
        assert client.post("/demo/webhooks", content=body, headers={"Punchcard-Signature": signed}).status_code == 200
        forged = signature("whsec_other", int(time.time()), body.encode())
        assert client.post("/demo/webhooks", content=body, headers={"Punchcard-Signature": forged}).status_code == 200
        page = client.get("/demo/webhooks").text
    assert page.count(">verified<") == 1
    assert page.count(">not verified<") == 1
    assert "c-1" in page


def test_there_is_no_receiver_outside_the_demo(client: TestClient) -> None:
    assert client.get("/demo/webhooks").status_code == 404
