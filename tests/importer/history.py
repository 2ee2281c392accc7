"""Order histories for the importer's tests: generated deterministically, written as CSV or JSON Lines, and posted
through the API for comparison."""

from __future__ import annotations

import csv
import json
import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from punchcard.event.models import Event
from punchcard.importer import service
from punchcard.importer.source import FileFormat
from punchcard.kit.db import unit_of_work
from punchcard.member.models import Member
from tests.clock import NOW
from tests.factories import ApiClient, ledger_items, member_at

START = datetime(2024, 1, 3, 8, 15, tzinfo=UTC)
PRODUCTS = (
    ("BEANS", "coffee-beans", "14.50"),
    ("MUG", "merch", "9.90"),
    ("GIFT", "gift-cards", "25.00"),
    ("GRINDER", "equipment", "189.00"),
    ("FILTERS", "accessories", "4.20"),
)
CSV_HEADER = (
    "order_id",
    "member_external_id",
    "occurred_at",
    "currency",
    "sku",
    "category",
    "quantity",
    "unit_price",
    "shipping",
)


@dataclass(frozen=True)
class HistoricOrder:
    order_id: str
    member: str
    occurred_at: datetime
    lines: tuple[tuple[str, str, int, str], ...]
    shipping: str

    def body(self) -> dict[str, Any]:
        return {
            "order_id": self.order_id,
            "member_external_id": self.member,
            "occurred_at": self.occurred_at.isoformat(),
            "currency": "EUR",
            "lines": [
                {"sku": sku, "category": category, "quantity": quantity, "unit_price": price}
                for sku, category, quantity, price in self.lines
            ],
            "shipping": self.shipping,
        }


def history(members: int = 5, orders: int = 40, *, days: int = 800, seed: int = 7) -> list[HistoricOrder]:
    """``orders`` orders by members ``h1..hN`` over ``days`` (long enough for points to expire), oldest first."""
    generator = random.Random(seed)
    made = []
    for number in range(orders):
        moment = START + timedelta(days=days * number / orders, hours=generator.randint(0, 20))
        lines = tuple(
            (sku, category, generator.randint(1, 3), price)
            for sku, category, price in generator.sample(PRODUCTS, generator.randint(1, 3))
        )
        made.append(
            HistoricOrder(
                f"O-{number}", f"h{generator.randint(1, members)}", moment, lines, generator.choice(["0", "4.90"])
            )
        )
    return made


def write_csv(path: Path, orders: list[HistoricOrder]) -> Path:
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_HEADER)
        for order in orders:
            for sku, category, quantity, price in order.lines:
                writer.writerow(
                    (
                        order.order_id,
                        order.member,
                        order.occurred_at.isoformat(),
                        "EUR",
                        sku,
                        category,
                        quantity,
                        price,
                        order.shipping,
                    )
                )
    return path


def write_jsonl(path: Path, orders: list[HistoricOrder]) -> Path:
    path.write_text("".join(json.dumps(order.body()) + "\n" for order in orders))
    return path


def import_file(engine: Engine, api: ApiClient, path: Path, *, batch_size: int = service.BATCH_SIZE) -> service.Summary:
    """``punchcard import orders PATH --program <api's program>``, through the service the command calls."""
    file_format = FileFormat.of(path)
    now = NOW
    plan = service.check(engine, api.slug, path, file_format, now)
    return service.run(engine, api.slug, path, file_format, now=now, plan=plan, batch_size=batch_size)


def post_through_api(api: ApiClient, orders: list[HistoricOrder]) -> None:
    """The same history sent live: each member enrolled at their first order, then every order as a purchase event
    with the id the import gives it (``import:<order id>``), oldest first."""
    enrolled: set[str] = set()
    for order in sorted(orders, key=lambda order: order.occurred_at):
        if order.member not in enrolled:
            response = api.post(
                "/api/v1/members", {"external_id": order.member, "enrolled_at": order.occurred_at.isoformat()}
            )
            assert response.status_code in (201, 409), response.text
            enrolled.add(order.member)
        response = api.post("/api/v1/events", {"id": f"import:{order.order_id}", "type": "purchase", **order.body()})
        assert response.status_code == 201, response.text


def state(api: ApiClient, members: list[str], moment: str = "2026-03-01T00:00:00+00:00") -> dict[str, Any]:
    """Everything a member can see, for each member: the member view at ``moment`` and the whole ledger (without
    ids and recording times, which differ between two programs by construction)."""
    found: dict[str, Any] = {}
    for name in members:
        view = member_at(api, name, moment)
        entries = [
            {key: value for key, value in item.items() if key not in {"id", "recorded_at", "lot_id"}}
            | {"has_lot": item["lot_id"] is not None}
            for item in ledger_items(api, name)
        ]
        found[name] = {"view": view, "ledger": entries}
    return found


def responses(engine: Engine, program_id: int) -> dict[str, Any]:
    """Each recorded event's stored response (what a retry of the event gets back), by event id."""
    with unit_of_work(engine) as session:
        rows = session.execute(select(Event.external_id, Event.response).where(Event.program_id == program_id)).all()
    return {str(external_id): response for external_id, response in rows}


def counts(engine: Engine, program_id: int) -> tuple[int, int]:
    """(members, events) of a program."""
    with unit_of_work(engine) as session:
        members = session.execute(select(func.count()).where(Member.program_id == program_id)).scalar_one()
        events = session.execute(select(func.count()).where(Event.program_id == program_id)).scalar_one()
    return int(members), int(events)


def recorded_as_prefixes(engine: Engine, program_id: int, orders: list[HistoricOrder]) -> int:
    """How many of ``orders`` an (interrupted) import recorded, checking that what it left is whole: each member's
    recorded orders are the oldest part of its history, never one with an older gap."""
    with unit_of_work(engine) as session:
        events = session.execute(select(Event.external_id).where(Event.program_id == program_id)).scalars()
        recorded = {str(external_id).removeprefix("import:") for external_id in events}
    for member in {order.member for order in orders}:
        mine = sorted((order for order in orders if order.member == member), key=lambda order: order.occurred_at)
        flags = [order.order_id in recorded for order in mine]
        assert flags == sorted(flags, reverse=True), f"{member}'s recorded orders are not the oldest ones: {flags}"
    return len(recorded)
