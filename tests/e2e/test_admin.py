"""The admin console in Chromium against a real server, at desktop and phone size: a support user adjusts a balance
and the audit log shows it; a marketer edits the program and the preview changes; accessibility (axe) on every console
page; and the screenshots of the dashboard, a member, the program and the audit log that the README shows."""

from __future__ import annotations

import uuid

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from punchcard.kit.db import unit_of_work
from punchcard.staff import service as staff_service
from punchcard.staff.domain import Role
from tests.clock import NOW
from tests.e2e.conftest import LiveServer, Shop, axe_violations, screenshot

PASSWORD = "a long and fine staff password"


def staff(engine: Engine, role: Role) -> str:
    """A new staff account with ``role``; returns its e-mail (the password is ``PASSWORD``)."""
    email = f"{role.value}-{uuid.uuid4().hex[:8]}@example.com"
    with unit_of_work(engine) as session:
        staff_service.create(session, email, role, NOW, actor_id=None, password=PASSWORD)
    return email


def sign_in(page: Page, live_server: LiveServer, email: str) -> None:
    page.goto(f"{live_server.url}/admin/sign-in")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Dashboard")).to_be_visible()


def accessible(page: Page) -> None:
    assert axe_violations(page) == [], page.url


def fits_the_width(page: Page) -> bool:
    """Only tables and the program file scroll sideways (in their own boxes), never the page."""
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_support_user_adjusts_a_balance_and_the_audit_log_shows_it(
    page: Page, live_server: LiveServer, shop: Shop, engine: Engine
) -> None:
    support = staff(engine, Role.SUPPORT)
    sign_in(page, live_server, support)
    # Given support finds Anna by her name
    page.goto(f"{shop.console}/members")
    page.get_by_label("E-mail, member id or name").fill("anna tamm")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name=shop.member).click()
    available = page.locator('[data-metric="available"]')
    before = int(available.inner_text().replace(",", ""))
    # When they add 25 points because her parcel was late
    page.get_by_label("Points (negative to remove)").fill("25")
    page.get_by_label("Reason (kept in the ledger and the audit log)").fill("parcel arrived late")
    page.get_by_role("button", name="Adjust").click()
    # Then her balance is 25 higher and the ledger says why
    expect(page.get_by_role("status")).to_have_text("The points were adjusted.")
    expect(available).to_have_text(f"{before + 25:,}")
    expect(page.get_by_role("cell", name="Adjustment: parcel arrived late")).to_be_visible()
    # And the audit log shows who did what to whom, and why
    page.get_by_role("link", name="Audit log").click()
    page.get_by_label("Action").select_option("member.points_adjusted")
    page.get_by_role("button", name="Filter").click()
    entry = page.locator("tbody tr").first
    expect(entry).to_contain_text(support)
    expect(entry).to_contain_text(f"member {shop.member}")
    expect(entry).to_contain_text("parcel arrived late")
    expect(entry).to_contain_text(f"points: 25; available after: {before + 25}")
    assert fits_the_width(page)


def test_a_marketer_edits_the_program_and_the_preview_changes(
    page: Page, live_server: LiveServer, shop: Shop, engine: Engine
) -> None:
    sign_in(page, live_server, staff(engine, Role.MARKETER))

    def preview_beans() -> None:
        page.goto(f"{shop.console}/preview")
        page.locator("#sku-0").fill("BEANS")
        page.locator("#category-0").fill("coffee-beans")
        page.locator("#quantity-0").fill("1")
        page.locator("#unit_price-0").fill("20.00")
        page.get_by_role("button", name="Preview").click()

    # Given 20 € of beans earn 40 points
    preview_beans()
    expect(page.locator('[data-metric="preview-total"]')).to_have_text("40")
    # When the marketer makes beans earn 3 points per € in the program form
    page.goto(f"{shop.console}/program/edit")
    page.get_by_label("2 points per € on coffee beans: points per currency unit").fill("3")
    page.get_by_label("Why (kept in the audit log; optional)").first.fill("summer campaign")
    page.get_by_role("button", name="Apply these settings").click()
    expect(page.get_by_role("status")).to_contain_text("Applied as version 2")
    # Then the same basket earns 60, rule by rule
    preview_beans()
    expect(page.locator('[data-metric="preview-total"]')).to_have_text("60")
    expect(page.locator('tr[data-rule="coffee-beans"]')).to_contain_text("60")
    # And the version history shows the change
    page.goto(f"{shop.console}/program/versions/2")
    expect(page.locator("pre.diff .add").filter(has_text="points_per_currency_unit: 3")).to_be_visible()
    assert fits_the_width(page)


def test_every_console_page_is_accessible_and_the_main_ones_are_pictured(
    page: Page, live_server: LiveServer, shop: Shop, engine: Engine
) -> None:
    page.goto(f"{live_server.url}/admin/sign-in")
    accessible(page)
    sign_in(page, live_server, staff(engine, Role.OWNER))
    # Something for the member page and the audit log to show
    page.goto(f"{shop.console}/members/{shop.member}")
    page.get_by_label("Points (negative to remove)").fill("100")
    page.get_by_label("Reason (kept in the ledger and the audit log)").fill("Sorry for the late parcel")
    page.get_by_role("button", name="Adjust").click()
    expect(page.get_by_role("status")).to_have_text("The points were adjusted.")
    page.goto(f"{shop.console}/dashboard")
    expect(page.locator('[data-metric="enrolled"]')).not_to_have_text("0")
    accessible(page)
    assert fits_the_width(page)
    screenshot(page, "admin-dashboard")
    pages = {
        "admin-member": f"{shop.console}/members/{shop.member}",
        "admin-program": f"{shop.console}/program",
        "admin-audit": f"{shop.console}/audit",
    }
    for path in (
        f"{shop.console}/members?q=a",
        f"{shop.console}/program/versions/1",
        f"{shop.console}/program/edit",
        f"{shop.console}/preview?sku=BEANS&category=coffee-beans&quantity=2&unit_price=12.50&member={shop.member}",
        f"{shop.console}/rewards",
        f"{shop.console}/api-keys",
        f"{live_server.url}/admin/staff",
        f"{live_server.url}/admin/account",
        *pages.values(),
    ):
        page.goto(path)
        accessible(page)
        assert fits_the_width(page), path
    for name, path in pages.items():
        page.goto(path)
        screenshot(page, name)


def test_the_console_works_from_the_keyboard(page: Page, live_server: LiveServer, shop: Shop, engine: Engine) -> None:
    sign_in(page, live_server, staff(engine, Role.VIEWER))
    page.goto(f"{shop.console}/dashboard")
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    page.keyboard.press("Enter")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.id") == "from":
            break
    expect(page.locator("#from")).to_be_focused()
