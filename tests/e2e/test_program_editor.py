"""The program editor in Chromium against a real server: a marketer adds an earning rule, tries a basket on it,
saves it, switches it off, moves a rule, lowers a tier's threshold and sees who would move, adds and withdraws a
reward, and is told exactly what is wrong with a refused rule. Every page on the way is axe clean and fits the
width."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from punchcard.staff.domain import Role
from tests.e2e.conftest import LiveServer, Shop, screenshot
from tests.e2e.test_admin import accessible, fits_the_width, sign_in, staff


def checked(page: Page) -> None:
    accessible(page)
    assert fits_the_width(page), page.url


def save(page: Page, version: int) -> None:
    checked(page)
    page.get_by_role("button", name=f"Save as version {version}").click()
    expect(page.get_by_role("status")).to_contain_text(f"Saved as version {version}")


def open_editor(page: Page, shop: Shop) -> None:
    page.goto(f"{shop.console}/program")
    page.get_by_role("link", name="Program editor").click()
    expect(page.get_by_role("heading", name="Program editor", exact=True)).to_be_visible()
    checked(page)


def test_a_marketer_changes_the_program_in_the_editor(
    page: Page, live_server: LiveServer, shop: Shop, engine: Engine
) -> None:
    sign_in(page, live_server, staff(engine, Role.MARKETER))
    open_editor(page, shop)

    # A new rule, refused first: the amount is not a number, and the input says so
    page.get_by_role("link", name="Add an earning rule").click()
    expect(page.get_by_label("Code")).to_be_visible()
    checked(page)
    page.get_by_label("Code").fill("pastry-bonus")
    page.get_by_label("Name (en)").fill("Pastry bonus")
    page.get_by_label("Name (et)").fill("Saiakese boonus")
    page.get_by_label("When").fill("purchase")
    page.get_by_label("Categories").first.fill("pastry")
    page.get_by_label("wed").check()
    page.get_by_label("Gives").select_option("points")
    page.get_by_label("How many").fill("ten")
    page.get_by_role("button", name="Review this change").click()
    expect(page.get_by_role("alert")).to_contain_text("the program file is invalid")
    expect(page.get_by_label("How many")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#error-then-amount")).to_contain_text("valid decimal")
    checked(page)

    # Corrected, it is reviewed: the diff, and a basket bought now (a Wednesday) before and after
    page.get_by_label("How many").fill("10")
    page.get_by_role("button", name="Review this change").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review: Add the earning rule “Pastry bonus”")
    expect(page.locator("pre.diff .add").filter(has_text="code: pastry-bonus")).to_be_visible()
    # (the basket starts as the shop's latest purchase, two lines: the second is cleared)
    for field in ("sku", "category", "unit_price"):
        page.locator(f"#{field}-1").fill("")
    page.locator("#sku-0").fill("CROISSANT")
    page.locator("#category-0").fill("pastry")
    page.locator("#quantity-0").fill("2")
    page.locator("#unit_price-0").fill("3.50")
    page.locator("#member").fill("")
    page.get_by_role("button", name="Try this basket").click()
    expect(page.locator('[data-metric="earned-now"]')).to_have_text("7")
    expect(page.locator('[data-metric="earned-after"]')).to_have_text("17")
    screenshot(page, "admin-program-editor-review")
    page.get_by_label("Why (kept in the audit log)").fill("pastry week")
    save(page, 2)
    expect(page.locator("pre.diff .add").filter(has_text="code: pastry-bonus")).to_be_visible()

    # Switched off again: it stays in the list, marked
    open_editor(page, shop)
    page.get_by_role("button", name="Disable: Pastry bonus").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review: Disable the earning rule “Pastry bonus”")
    save(page, 3)
    open_editor(page, shop)
    expect(page.locator('tr[data-rule="pastry-bonus"]')).to_contain_text("disabled")

    # "1 point per €" moves above the beans rule: the list shows the new running order
    page.get_by_role("button", name="Up: 1 point per €").click()
    save(page, 4)
    open_editor(page, shop)
    first_two = page.locator("tr[data-rule]").evaluate_all("rows => rows.slice(0, 2).map(r => r.dataset.rule)")
    assert first_two == ["everything-else", "coffee-beans"]

    # Silver from 250 points: the review counts the members who would move up
    page.locator('tr[data-tier="silver"]').get_by_role("link").click()
    expect(page.get_by_label("Threshold")).to_be_visible()
    checked(page)
    page.get_by_label("Threshold").fill("250")
    page.get_by_role("button", name="Review this change").click()
    moved = page.locator('[data-metric="tier-moved"]')
    expect(moved).to_be_visible()
    assert int(moved.inner_text()) > 0
    save(page, 5)

    # A free croissant for 120 points, then withdrawn
    open_editor(page, shop)
    page.get_by_role("link", name="Add a reward").click()
    expect(page.get_by_label("Code")).to_be_visible()
    checked(page)
    page.get_by_label("Code").fill("free-croissant")
    page.get_by_label("Name (en)").first.fill("A free croissant")
    page.get_by_label("Cost in points").fill("120")
    page.get_by_label("Gives").select_option("free_product")
    page.get_by_label("Free product's SKU").fill("CROISSANT")
    page.get_by_role("button", name="Review this change").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Review: Add the reward “A free croissant”")
    save(page, 6)
    open_editor(page, shop)
    page.get_by_role("button", name="Withdraw: A free croissant").click()
    save(page, 7)
    open_editor(page, shop)
    expect(page.locator('tr[data-reward="free-croissant"]')).to_contain_text("withdrawn")
    assert re.search(r"/program/editor$", page.url)
