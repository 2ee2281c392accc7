"""A delivery Shopify was answered 200 for survives ``kill -9`` of the server right after the answer: its event is
in the intake, and once a worker has run the order has earned its points exactly once, however often Shopify sends
the delivery again."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.intake.models import IntakeEvent
from tests.factories import ApiClient
from tests.invariants.test_group_commit_crash import server
from tests.invariants.test_intake_crash import worker
from tests.shops.test_shopify_webhooks import BUYER, ORDER, SAMPLE_LINES, sample, shop, signature  # noqa: F401


def test_a_server_killed_just_after_answering_a_delivery_loses_nothing(
    shop: ApiClient,  # noqa: F811 (the fixture imported above)
    engine: Engine,
    database_url: str,
    tmp_path: Path,
) -> None:
    body = sample("orders_paid.json")
    headers = {
        "X-Shopify-Topic": "orders/paid",
        "X-Shopify-Webhook-Id": "crash-1",
        "X-Shopify-Hmac-Sha256": signature(body),
        "Content-Type": "application/json",
    }
    with server(database_url, tmp_path / "server.log") as (url, process):
        answer = httpx.post(f"{url}/integrations/shopify/{shop.slug}/webhooks", content=body, headers=headers)
        os.killpg(process.pid, signal.SIGKILL)  # the moment the answer is in
    assert answer.status_code == 200, answer.text

    with Session(engine) as session:
        kept = (
            session.execute(select(IntakeEvent.external_id).where(IntakeEvent.program_id == shop.program_id))
            .scalars()
            .all()
        )
    assert kept == [f"shopify:order:{ORDER}"]

    with server(database_url, tmp_path / "server.log") as (url, _):  # Shopify, unsure, sends it again
        again = httpx.post(f"{url}/integrations/shopify/{shop.slug}/webhooks", content=body, headers=headers)
    assert again.json()["duplicate"] is True
    finish = worker(database_url, tmp_path / "worker.log", "--until-idle")
    assert finish.wait(timeout=300) == 0, (tmp_path / "worker.log").read_text()
    assert shop.available(BUYER) == 50 + SAMPLE_LINES // 100
