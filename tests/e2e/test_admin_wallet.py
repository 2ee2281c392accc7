"""The console's gift cards and store credit in Chromium at desktop and phone size: the liability figures and the card
list of a program with two months of cards and credit, a card found by its last four symbols and disabled with a reason,
and store credit granted on the member page; every page accessible (axe: no violation of any impact) and no wider
than the screen. Saves a screenshot of the page."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from punchcard.staff.domain import Role
from tests.admin.test_wallet_console import Story, tell
from tests.conftest import Clock
from tests.e2e.conftest import LiveServer, axe_violations, screenshot
from tests.e2e.test_admin import fits_the_width, sign_in, staff
from tests.factories import ProgramMaker

EVERY_IMPACT = ("minor", "moderate", "serious", "critical")


@pytest.fixture
def story(make_program: ProgramMaker, clock: Clock, engine: Engine) -> Story:
    """October and November of three gift cards and Anna's store credit, as ``tests.admin.test_wallet_console.tell``
    tells them; the console reads them on the tests' now, 25 November."""
    return tell(make_program, clock, engine)


def test_the_wallet_page_is_accessible_and_support_disables_a_card(
    page: Page, live_server: LiveServer, story: Story, engine: Engine
) -> None:
    api, card = story.api, story.a
    sign_in(page, live_server, staff(engine, Role.SUPPORT))
    page.goto(f"{live_server.url}/admin/p/{api.slug}/dashboard")
    page.get_by_role("navigation", name="Program sections").get_by_role("link", name="Gift cards & credit").click()
    expect(page.get_by_role("heading", name="Gift cards & credit", exact=True)).to_be_visible()
    expect(page.locator('[data-metric="gift-cards-outstanding"]')).to_have_text("€59.00")
    expect(page.locator('[data-metric="credit-outstanding"]')).to_have_text("€3.00")
    expect(page.locator('[data-metric="pending-cashback"]')).to_have_text("€0.69")
    expect(page.locator('[data-metric="liability"]')).to_have_text("€62.69")
    expect(page.locator('[data-metric="breakage"]')).to_have_text("€12.00")
    expect(page.locator('[data-metric="gift-cards-month-issued"]')).to_have_text("€30.00")
    expect(page.locator('[data-metric="gift-cards-all-issued"]')).to_have_text("€100.00")
    expect(page.get_by_role("table", name="Gift cards", exact=True).locator("tbody tr")).to_have_count(3)
    assert axe_violations(page, EVERY_IMPACT) == []
    assert fits_the_width(page)
    if page.viewport_name == "desktop":  # type: ignore[attr-defined]
        screenshot(page, "admin-wallet")
    # Support finds the card by the last four symbols on it and disables it
    page.get_by_label("Last four symbols of the code").fill(card["last4"].lower())
    page.get_by_role("button", name="Search").click()
    cards = page.get_by_role("table", name=f"Gift cards ending in {card['last4']}").locator("tbody tr")
    expect(cards).to_have_count(1)
    page.get_by_role("link", name=f"Gift card {card['id']} ending {card['last4']}").click()
    expect(page.get_by_role("heading", name=f"Gift card ending {card['last4']}")).to_be_visible()
    history = page.get_by_role("table", name="Movements of the card's money")
    expect(history.locator("tbody tr")).to_have_count(4)
    expect(history.locator('tr[data-kind="refund"]')).to_contain_text("+€4.00")
    assert axe_violations(page, EVERY_IMPACT) == []
    assert fits_the_width(page)
    page.get_by_label("Reason (kept with the card and in the audit log)").fill("reported stolen")
    page.get_by_role("button", name="Disable").click()
    expect(page.get_by_role("status")).to_contain_text("The gift card is disabled")
    expect(page.locator('[data-metric="status"]')).to_have_text("disabled")
    expect(page.locator('[data-metric="balance"]')).to_have_text("€29.00")
    assert axe_violations(page, EVERY_IMPACT) == []
    assert fits_the_width(page)


def test_support_grants_store_credit_on_the_member_page(
    page: Page, live_server: LiveServer, story: Story, engine: Engine
) -> None:
    api = story.api
    sign_in(page, live_server, staff(engine, Role.SUPPORT))
    page.goto(f"{live_server.url}/admin/p/{api.slug}/members/anna")
    expect(page.locator('[data-metric="credit-available"]')).to_have_text("€3.00")
    expect(page.locator('[data-metric="credit-pending"]')).to_have_text("€0.69")
    # An amount with too many decimals is refused and says why
    page.get_by_label("Amount (EUR)").fill("7.505")
    page.get_by_label("Reason for the credit (kept in the ledger and the audit log)").fill("parcel arrived late")
    page.get_by_role("button", name="Grant").click()
    expect(page.locator("#error-credit_amount")).to_have_text("EUR has 2 decimals: enter an amount such as 5.00")
    assert axe_violations(page, EVERY_IMPACT) == []
    page.get_by_label("Amount (EUR)").fill("7.50")
    page.get_by_role("button", name="Grant").click()
    expect(page.get_by_role("status")).to_have_text("The store credit was granted.")
    expect(page.locator('[data-metric="credit-available"]')).to_have_text("€10.50")
    movements = page.get_by_role("table", name="Latest store credit movements")
    expect(movements.locator("tbody tr").first).to_contain_text("parcel arrived late")
    expect(page.get_by_text("granted store credit (7.50 EUR)")).to_be_visible()
    assert axe_violations(page, EVERY_IMPACT) == []
    assert fits_the_width(page)
