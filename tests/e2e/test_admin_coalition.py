"""The console's coalition page in Chromium at desktop and phone size: a coalition of three brands with two months of
movements between them, reached from the owner's navigation; the coalition's facts, this month's flows and what the
brands owe each other netted; another month chosen with the month field and its settlement downloaded as CSV; and a
partner's page, which shows only its own pairs. Every page accessible (axe: no violation of any impact) and no wider
than the screen. Saves a screenshot of the owner's page."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from punchcard.staff.domain import Role
from tests.admin.test_coalition_console import Story, tell
from tests.conftest import Clock
from tests.e2e.conftest import LiveServer, axe_violations, screenshot
from tests.e2e.test_admin import fits_the_width, sign_in, staff
from tests.factories import ProgramMaker

EVERY_IMPACT = ("minor", "moderate", "serious", "critical")


@pytest.fixture
def story(make_program: ProgramMaker, clock: Clock, engine: Engine) -> Story:
    """October and November of Anna's and Ben's movements between Bean There (the owner), Leaf & Cup and Crumb
    Bakery, as ``tests.admin.test_coalition_console.tell`` tells them; the console reads them on the tests' now,
    25 November."""
    return tell(make_program, clock, engine)


def checked(page: Page) -> None:
    assert axe_violations(page, EVERY_IMPACT) == []
    assert fits_the_width(page)


def test_the_coalition_page_is_accessible_and_a_months_settlement_downloads(
    page: Page, live_server: LiveServer, story: Story, engine: Engine
) -> None:
    roaster, tea, bakery = story.roaster, story.tea, story.bakery
    sign_in(page, live_server, staff(engine, Role.VIEWER))
    page.goto(f"{live_server.url}/admin/p/{roaster.slug}/dashboard")
    page.get_by_role("navigation", name="Program sections").get_by_role("link", name="Coalition").click()
    expect(page.get_by_role("heading", name="Coalition", exact=True)).to_be_visible()
    expect(page.locator('[data-fact="owner"]')).to_have_text("Bean There")
    expect(page.locator('[data-fact="unit-value"]')).to_have_text("0.05 EUR")
    brands = page.get_by_role("table", name="Brands and their rates")
    expect(brands.get_by_role("row", name="Leaf & Cup")).to_contain_text("partner")
    expect(page.locator(f'[data-metric="rate-{bakery.slug}"]')).to_have_text("5")
    expect(page.get_by_role("heading", name="Settlement, November 2026 (this month)")).to_be_visible()
    expect(page.locator(f'[data-metric="owed-{story.pair(roaster, tea)}"]')).to_have_text(
        "Bean There owes Leaf & Cup 2.50 EUR"
    )
    expect(page.locator(f'[data-metric="owed-{story.pair(bakery, roaster)}"]')).to_have_text(
        "Crumb Bakery owes Bean There 0.50 EUR"
    )
    flows = page.get_by_role("table", name="Flows, November 2026 (EUR)")
    expect(flows.locator("tbody tr")).to_have_count(4)
    expect(page.locator(f'[data-metric="flow-{story.pair(roaster, tea)}-units"]')).to_have_text("100")
    expect(page.get_by_role("heading", name="How these figures are counted")).to_be_visible()
    checked(page)
    screenshot(page, "admin-coalition")
    # October, chosen with the month field: Anna's tea points at 00:30 on 1 November in Tallinn are not in it
    page.get_by_label("Month", exact=True).fill("2026-10")
    page.get_by_role("button", name="Show").click()
    expect(page).to_have_url(f"{live_server.url}/admin/p/{roaster.slug}/coalition?month=2026-10")
    expect(page.get_by_role("heading", name="Settlement, October 2026")).to_be_visible()
    expect(page.locator(f'[data-metric="owed-{story.pair(roaster, tea)}"]')).to_have_text(
        "Bean There owes Leaf & Cup 4.00 EUR"
    )
    expect(page.get_by_role("table", name="Flows, October 2026 (EUR)").locator("tbody tr")).to_have_count(2)
    checked(page)
    # October's settlement, downloaded
    with page.expect_download() as started:
        page.get_by_role("link", name="Download settlement (CSV), October 2026").click()
    download = started.value
    assert download.suggested_filename == f"{roaster.slug}-{story.code}-settlement-2026-10.csv"
    found = list(csv.reader(io.StringIO(Path(download.path()).read_text(encoding="utf-8"))))
    assert found == [
        ["month", "line", "from", "to", "movements", "units", "amount", "currency"],
        ["2026-10", "owed", roaster.slug, tea.slug, "", "", "4.00", "EUR"],
        ["2026-10", "flow", tea.slug, roaster.slug, "1", "20", "1.00", "EUR"],
        ["2026-10", "flow", roaster.slug, tea.slug, "1", "100", "5.00", "EUR"],
    ]


def test_a_partner_sees_its_own_pairs_only(page: Page, live_server: LiveServer, story: Story, engine: Engine) -> None:
    roaster, tea, bakery = story.roaster, story.tea, story.bakery
    sign_in(page, live_server, staff(engine, Role.MARKETER))
    page.goto(f"{live_server.url}/admin/p/{bakery.slug}/coalition")
    expect(page.get_by_text("Crumb Bakery is a partner brand")).to_be_visible()
    expect(page.get_by_role("table", name="Flows, November 2026 (EUR)").locator("tbody tr")).to_have_count(2)
    expect(page.locator(f'[data-metric="owed-{story.pair(tea, bakery)}"]')).to_have_text(
        "Leaf & Cup owes Crumb Bakery 0.50 EUR"
    )
    expect(page.locator(f'[data-metric="owed-{story.pair(roaster, tea)}"]')).to_have_count(0)
    checked(page)
