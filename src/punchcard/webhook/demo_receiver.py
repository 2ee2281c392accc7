"""The demo's webhook receiver: ``punchcard demo`` subscribes ``/demo/webhooks`` to every event of its program, and
this page lists what arrived, each delivery's signature checked as ``docs/webhooks.md`` tells a receiver to.

Mounted only in the demo (``demo_webhook_secret`` set): it keeps the newest deliveries in memory and shows their
payloads, members' data included, to anyone who can reach it.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from punchcard.webhook.domain import verify

KEPT = 200
PAGES = Environment(loader=FileSystemLoader(Path(__file__).resolve().parent), autoescape=select_autoescape(["html"]))


@dataclass(frozen=True)
class Received:
    event_id: str
    event_type: str
    verified: bool
    member: str | None
    payload: str


class Deliveries:
    def __init__(self) -> None:
        self._kept: list[Received] = []
        self._lock = threading.Lock()

    def add(self, received: Received) -> None:
        with self._lock:
            self._kept.append(received)
            del self._kept[:-KEPT]

    def newest_first(self) -> list[Received]:
        with self._lock:
            return list(reversed(self._kept))


DELIVERIES = Deliveries()

router = APIRouter(tags=["demo"], include_in_schema=False)


@router.post("/demo/webhooks")
async def receive(request: Request) -> Response:
    """Take a delivery: 200 whatever it holds (a real receiver answers 400 to a bad signature; the demo shows it)."""
    body = await request.body()
    secret: str = request.app.state.settings.demo_webhook_secret
    header = request.headers.get("Punchcard-Signature", "")
    try:
        event = json.loads(body)
        data = event.get("data", {})
    except ValueError:
        event, data = {}, {}
    DELIVERIES.add(
        Received(
            event_id=str(event.get("id", "?")),
            event_type=str(event.get("type", "?")),
            verified=verify(secret, header, body, int(time.time())),
            member=data.get("member"),
            payload=json.dumps(data.get("payload", {}), ensure_ascii=False),
        )
    )
    return Response(status_code=200)


@router.get("/demo/webhooks", response_class=HTMLResponse)
def received() -> HTMLResponse:
    page = PAGES.get_template("demo_receiver.html").render(deliveries=DELIVERIES.newest_first())
    return HTMLResponse(page, headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"})
