"""Plain helpers that build programs, keys, members and events for tests, always through the real code paths."""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from punchcard.auth.service import Scope, create_key
from punchcard.kit.db import unit_of_work
from punchcard.program import service as programs
from tests.clock import NOW


def deep_merge(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in changes.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged


@dataclass
class ApiClient:
    """A test client bound to one program and key; methods return the raw response."""

    client: TestClient
    key: str
    slug: str
    program_id: int
    integration_key: str = ""
    _events: int = field(default=0)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def request(self, method: str, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        headers = {**self.headers, **kwargs.pop("headers", {})}
        response: httpx.Response = self.client.request(method, path, json=body, headers=headers, **kwargs)
        return response

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.request("POST", path, body, **kwargs)

    def patch(self, path: str, body: Any = None) -> httpx.Response:
        return self.request("PATCH", path, body)

    def as_integration(self) -> ApiClient:
        return ApiClient(self.client, self.integration_key, self.slug, self.program_id, self.integration_key)

    # --- conveniences that assert success ---------------------------------------------------------------------

    def member(self, external_id: str | None = None, **fields: Any) -> str:
        external_id = external_id or f"m-{uuid.uuid4().hex[:8]}"
        response = self.post("/api/v1/members", {"external_id": external_id, **fields})
        assert response.status_code == 201, response.text
        return external_id

    def points(self, external_id: str) -> dict[str, Any]:
        response = self.get(f"/api/v1/members/{external_id}")
        assert response.status_code == 200, response.text
        return dict(response.json()["points"])

    def available(self, external_id: str) -> int:
        return int(self.points(external_id)["available"])

    def next_id(self, prefix: str) -> str:
        self._events += 1
        return f"{prefix}-{self._events}-{uuid.uuid4().hex[:6]}"

    def purchase(
        self,
        member: str,
        lines: list[dict[str, Any]],
        *,
        order_id: str | None = None,
        occurred_at: str = "2026-06-01T12:00:00+00:00",
        shipping: str = "0",
        expect: int = 201,
        **extra: Any,
    ) -> dict[str, Any]:
        body = {
            "id": self.next_id("evt"),
            "type": "purchase",
            "member_external_id": member,
            "occurred_at": occurred_at,
            "order_id": order_id or self.next_id("order"),
            "currency": "EUR",
            "lines": lines,
            "shipping": shipping,
            **extra,
        }
        response = self.post("/api/v1/events", body)
        assert response.status_code == expect, response.text
        return dict(response.json())

    def refund(
        self,
        member: str,
        order_id: str,
        *,
        occurred_at: str = "2026-06-10T12:00:00+00:00",
        expect: int = 201,
        **refund: Any,
    ) -> dict[str, Any]:
        body = {
            "id": self.next_id("refund"),
            "type": "refund",
            "member_external_id": member,
            "occurred_at": occurred_at,
            "order_id": order_id,
            "currency": "EUR",
            **refund,
        }
        response = self.post("/api/v1/events", body)
        assert response.status_code == expect, response.text
        return dict(response.json())


def line(sku: str, category: str, price: str, quantity: int = 1) -> dict[str, Any]:
    return {"sku": sku, "category": category, "quantity": quantity, "unit_price": price}


def earned(response: dict[str, Any]) -> int:
    return sum(effect["points"] for effect in response["effects"] if effect["type"] == "points_earned")


def reversed_points(response: dict[str, Any]) -> int:
    return sum(effect["points"] for effect in response["effects"] if effect["type"] == "points_reversed")


ENGAGEMENT = (
    "referrals",
    "birthday",
    "anniversary",
    "badges",
    "challenges",
    "streaks",
    "segments",
    "offers",
    "membership_plans",
)
"""The demo's engagement mechanics (issue 12) and paid memberships (issue 13). A test that is about one of them adds
it (``changes``), so that the sums of every other test stay those of earning, tiers and rewards alone. The demo's
cashback rule goes too (``without_engagement``); its gift cards, store credit and causes stay, since they change
nothing a purchase answers unless a test buys a gift-card sku."""


def without_engagement(definition: dict[str, Any]) -> dict[str, Any]:
    """The demo program without ``ENGAGEMENT``, its cashback rule, the rewards only its offers give, and its coalition
    (each copy would claim to found the demo's)."""
    offered = {offer.get("reward") for offer in definition.get("offers", [])}
    kept = {key: value for key, value in definition.items() if key not in (*ENGAGEMENT, "coalition")}
    kept["rewards"] = [reward for reward in definition.get("rewards", []) if reward["code"] not in offered]
    kept["earning_rules"] = [rule for rule in kept.get("earning_rules", []) if "cashback_percent" not in rule["then"]]
    return kept


class ProgramMaker:
    """Applies the demo program (without its engagement mechanics, optionally changed) under a fresh slug and returns
    an admin client for it."""

    def __init__(self, engine: Engine, client: TestClient, demo_file: Path) -> None:
        self.engine, self.client = engine, client
        self.definition = without_engagement(yaml.safe_load(demo_file.read_text()))

    def __call__(self, changes: dict[str, Any] | None = None) -> ApiClient:
        definition = deep_merge(self.definition, changes or {})
        if changes and "languages" in changes:
            definition = in_languages(definition, definition["languages"])
        definition["slug"] = f"p-{uuid.uuid4().hex[:12]}"
        text = yaml.safe_dump(definition)
        with unit_of_work(self.engine) as session:
            programs.apply(session, programs.parse_text(text, "yaml"), text, "yaml", NOW)
            program_id = programs.program_id_for(session, definition["slug"])
            admin = create_key(session, program_id, Scope.ADMIN, NOW)
            integration = create_key(session, program_id, Scope.INTEGRATION, NOW)
        return ApiClient(self.client, admin, definition["slug"], program_id, integration)


def in_languages(node: Any, languages: list[str]) -> Any:
    """The demo's translated texts kept only in ``languages``: a program names no other language in its texts."""
    if isinstance(node, list):
        return [in_languages(item, languages) for item in node]
    if not isinstance(node, dict):
        return node
    if node and all(isinstance(text, str) for text in node.values()) and set(node) <= {"en", "et", "fi", "sv", "ru"}:
        return {language: text for language, text in node.items() if language in languages}
    return {key: in_languages(value, languages) for key, value in node.items()}


def money(value: str) -> Decimal:
    return Decimal(value)


def at_moment(
    api: ApiClient, moment: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
) -> httpx.Response:
    """Send one request while the API's clock reads ``moment`` (ISO 8601): for what depends on "now" (member views
    count tier windows and expiring points from it; redemptions spend at it). The real clock is back afterwards."""
    from datetime import datetime

    from fastapi import FastAPI

    from punchcard.kit.clock import FixedClock

    app = api.client.app
    assert isinstance(app, FastAPI)
    clock: FixedClock = app.state.clock
    before = clock.now()
    clock.set(datetime.fromisoformat(moment))
    try:
        response: httpx.Response = api.client.request(
            method, path, json=body, headers={**api.headers, **(headers or {})}
        )
        return response
    finally:
        clock.set(before)


def member_at(api: ApiClient, external_id: str, moment: str) -> dict[str, Any]:
    """The member as ``GET /api/v1/members/{external_id}`` shows them when the API's clock reads ``moment``."""
    response = at_moment(api, moment, "GET", f"/api/v1/members/{external_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def deliver_outbox(client: TestClient) -> int:
    """Hand what the app's outbox holds to its consumers now (test apps run no dispatcher thread, so that a test
    knows when mail is sent and the activity log written); returns how many deliveries were made."""
    delivered: int = client.app.state.dispatcher.drain()  # type: ignore[attr-defined]
    return delivered


def process_accepted(client: TestClient) -> int:
    """Process every accepted event now, as a worker would (test apps run no worker thread, so that a test knows
    when events are processed); returns how many were processed or rejected."""
    from punchcard.event import worker

    app = client.app
    done: int = worker.drain(app.state.sessions, app.state.clock)  # type: ignore[attr-defined]
    return done


def ledger_items(api: ApiClient, external_id: str) -> list[dict[str, Any]]:
    """All of the member's ledger entries, newest first (one page of up to 500)."""
    response = api.get(f"/api/v1/members/{external_id}/ledger", params={"limit": 500})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def run_jobs(api: ApiClient, engine: Engine, at: str) -> None:
    """``punchcard jobs run --at AT`` for ``api``'s program: everything due at ``at`` (ISO 8601), as if run then."""
    from datetime import datetime

    from punchcard.jobs import service as jobs

    moment = datetime.fromisoformat(at)
    jobs.run(engine, at=moment, now=moment, only=[api.slug])


def snapshot(api: ApiClient, external_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The member's points and whole ledger: what a rejected request must leave exactly as it was."""
    return api.points(external_id), ledger_items(api, external_id)


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """Assert ``response`` is the error ``code`` with ``status`` in the standard shape; return the error object."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code, error
    assert error["message"]
    assert isinstance(error["details"], list)
    return dict(error)
