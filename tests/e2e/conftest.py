"""Browser tests: a real server on a free port, a real SMTP server catching mail, and Debian's Chromium via Playwright.

Screenshots land in ``build/screenshots`` (ignored by git), so a test run leaves the tree clean; ``scripts/screenshots``
runs these tests with ``PUNCHCARD_SCREENSHOTS=docs/screenshots`` to refresh the README's. Accessibility is checked
with axe-core from the npm registry (``node_modules/axe-core``), injected into the page under test.
"""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, ViewportSize, sync_playwright

from punchcard.api.app import create_app
from punchcard.kit.settings import Settings
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, line
from tests.smtp import Mailbox, free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / os.environ.get("PUNCHCARD_SCREENSHOTS", "build/screenshots")
PHONE: ViewportSize = {"width": 360, "height": 780}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}


@dataclass
class LiveServer:
    url: str
    settings: Settings


@pytest.fixture(scope="module")  # stopped after its module: its outbox dispatcher must not outlive the e2e tests
def live_server(database_url: str, engine: Any, mailbox: Mailbox) -> Iterator[LiveServer]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        fixed_now=NOW,
        database_url=database_url,
        public_url=url,
        secret_key="test-secret-key-0123456789abcdef",
        smtp_host="127.0.0.1",
        smtp_port=mailbox.port,
        mail_poll_seconds=0,  # member mails are not the browser tests' subject; their sign-in mails stay the last
        webhook_poll_seconds=0,
    )
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield LiveServer(url, settings)
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture(params=["desktop", "phone"])
def page(request: pytest.FixtureRequest, browser: Browser) -> Iterator[Page]:
    """A fresh browser context per test, run once at desktop size and once at a 360 px phone size."""
    viewport = DESKTOP if request.param == "desktop" else PHONE
    context = browser.new_context(
        viewport=viewport, is_mobile=request.param == "phone", has_touch=request.param == "phone"
    )
    context.set_default_timeout(10_000)
    opened = context.new_page()
    opened.viewport_name = request.param  # type: ignore[attr-defined]
    yield opened
    context.close()


def axe_violations(page: Page, impacts: tuple[str, ...] = ("serious", "critical")) -> list[dict[str, Any]]:
    """Run axe-core in the page; the violations of the given impacts (empty means accessible enough).

    The caller waits for what it navigated to; the page's own load is waited for here, so the script has a
    document to go into."""
    page.wait_for_load_state("load")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        {
            "id": item["id"],
            "impact": item["impact"],
            "help": item["help"],
            "nodes": [node["target"] for node in item["nodes"]][:5],
        }
        for item in result["violations"]
        if item["impact"] in impacts
    ]


def screenshot(page: Page, name: str) -> Path:
    """Save a full-page screenshot as <SCREENSHOTS>/<name>-<viewport>.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}-{page.viewport_name}.png"  # type: ignore[attr-defined]
    page.screenshot(path=str(path), full_page=True)
    return path


@dataclass(frozen=True)
class Shop:
    api: ApiClient
    console: str
    """The program's pages, e.g. ``http://127.0.0.1:PORT/admin/p/SLUG``."""
    member: str
    """Anna, a Silver regular."""


@pytest.fixture
def shop(make_program: ProgramMaker, live_server: LiveServer) -> Shop:
    """A program with a year of orders from a handful of members, so the dashboard has something to show."""
    api = make_program()
    now = NOW
    people = [
        ("anna", "Anna Tamm"),
        ("jaan", "Jaan Kask"),
        ("liisa", "Liisa Mets"),
        ("mari", "Mari Saar"),
        ("olev", "Olev Rebane"),
        ("piret", "Piret Kuusk"),
    ]
    tag = uuid.uuid4().hex[:6]
    for index, (key, name) in enumerate(people):
        enrolled = now - timedelta(days=340 - 40 * index)
        api.member(f"{key}-{tag}", email=f"{key}.{tag}@example.com", name=name, enrolled_at=enrolled.isoformat())
        for order in range(8 - index):
            moment = enrolled + timedelta(days=9 + 37 * order)
            if moment < now:
                beans = line("BEANS", "coffee-beans", f"{18 + 7 * order}.50", 1 + (index + order) % 2)
                api.purchase(f"{key}-{tag}", [beans, line("MUG", "mugs", "9.90")], occurred_at=moment.isoformat())
    anna = f"anna-{tag}"
    redeemed = api.post(
        f"/api/v1/members/{anna}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": f"drink-{tag}"}
    )
    assert redeemed.status_code == 201, redeemed.text
    return Shop(api, f"{live_server.url}/admin/p/{api.slug}", anna)
