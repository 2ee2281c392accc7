"""The console's causes page in Chromium at desktop and phone size: a program with two months of donations to its
causes, reached from the navigation; this month's figures and all time's, the goal and the matching budget; another
month chosen with the month field; and a cause's settlement for that month downloaded as CSV. Every page accessible
(axe: no violation of any impact) and no wider than the screen. Saves a screenshot of the page."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from punchcard.staff.domain import Role
from tests.admin.test_causes_console import Story, tell
from tests.conftest import Clock
from tests.e2e.conftest import LiveServer, axe_violations, screenshot
from tests.e2e.test_admin import fits_the_width, sign_in, staff
from tests.factories import ProgramMaker

EVERY_IMPACT = ("minor", "moderate", "serious", "critical")
HEADER = ["donation_id", "donated_at", "member_id", "points", "value", "matched", "total", "currency", "source"]


@pytest.fixture
def story(make_program: ProgramMaker, clock: Clock) -> Story:
    """October and November of Anna's and Ben's donations, as ``tests.admin.test_causes_console.tell`` tells them;
    the console reads them on the tests' now, 25 November."""
    return tell(make_program, clock)


def test_the_causes_page_is_accessible_and_a_months_settlement_downloads(
    page: Page, live_server: LiveServer, story: Story, engine: Engine
) -> None:
    api = story.api
    sign_in(page, live_server, staff(engine, Role.VIEWER))
    page.goto(f"{live_server.url}/admin/p/{api.slug}/dashboard")
    page.get_by_role("navigation", name="Program sections").get_by_role("link", name="Causes").click()
    expect(page.get_by_role("heading", name="Causes", exact=True)).to_be_visible()
    baltic = page.get_by_role("table", name="Given to Baltic Sea Foundation (EUR)")
    expect(baltic.get_by_role("columnheader", name="November 2026 (this month)")).to_be_visible()
    expect(page.locator('[data-metric="baltic-sea-month-points"]')).to_have_text("350")
    expect(page.locator('[data-metric="baltic-sea-month-given"]')).to_have_text("€7.00")
    expect(page.locator('[data-metric="baltic-sea-all-given"]')).to_have_text("€19.00")
    expect(page.locator('[data-metric="baltic-sea-all-donors"]')).to_have_text("2")
    expect(page.get_by_role("progressbar", name="€19.00 given of the €20.00 goal: 95.0%")).to_be_visible()
    expect(page.locator('[data-metric="baltic-sea-budget-left"]')).to_have_text("€1.50")
    expect(page.locator('[data-metric="forest-all-given"]')).to_have_text("€15.00")
    expect(page.locator('[data-metric="old-fund-status"]')).to_have_text("closed")
    assert axe_violations(page, EVERY_IMPACT) == []
    assert fits_the_width(page)
    if page.viewport_name == "desktop":  # type: ignore[attr-defined]
        screenshot(page, "admin-causes")
    # October, chosen with the month field: Anna's gift at 00:30 on 1 November in Tallinn is not in it
    page.get_by_label("Month").fill("2026-10")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{live_server.url}/admin/p/{api.slug}/causes?month=2026-10")
    expect(baltic.get_by_role("columnheader", name="October 2026")).to_be_visible()
    expect(page.locator('[data-metric="baltic-sea-month-points"]')).to_have_text("700")
    expect(page.locator('[data-metric="baltic-sea-month-matched"]')).to_have_text("€5.00")
    expect(page.get_by_role("heading", name="Matching budget, October 2026")).to_be_visible()
    expect(page.locator('[data-metric="baltic-sea-budget-left"]')).to_have_text("€0.00")
    assert axe_violations(page, EVERY_IMPACT) == []
    assert fits_the_width(page)
    # October's settlement, downloaded
    with page.expect_download() as started:
        page.get_by_role("link", name="Download settlement (CSV), October 2026: Baltic Sea Foundation").click()
    download = started.value
    assert download.suggested_filename == f"{api.slug}-baltic-sea-settlement-2026-10.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    found = list(csv.reader(io.StringIO(text)))
    assert found[0] == HEADER
    assert [(row[3], row[4], row[5], row[6], row[7]) for row in found[1:]] == [
        ("300", "3.00", "3.00", "6.00", "EUR"),
        ("400", "4.00", "2.00", "6.00", "EUR"),
    ]
