"""The console's memberships page in Chromium at desktop and phone size: the plans, members by status, recurring
revenue and the month table of a program with a few months of memberships, and the explanation of a program without
plans; both accessible (axe: no violation of any impact) and no wider than the screen. Saves a screenshot."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from punchcard.staff.domain import Role
from tests.admin.test_memberships_console import ROASTER, cancel, renew
from tests.e2e.conftest import LiveServer, axe_violations, screenshot
from tests.e2e.test_admin import fits_the_width, sign_in, staff
from tests.factories import ApiClient, ProgramMaker
from tests.membership.test_memberships_api import BEAN_CLUB, start

EVERY_IMPACT = ("minor", "moderate", "serious", "critical")


def at(moment: str) -> str:
    return f"{moment}:00+00:00"


@pytest.fixture
def club(make_program: ProgramMaker) -> ApiClient:
    """Memberships from September to the tests' now (25 November 2026): ann pays yearly after her trial, bob's trial
    lapsed, cat pays monthly after hers, gus is on the Roaster's Circle and cancelled at its period's end, jon
    cancelled his trial at once, dan is in his trial."""
    api = make_program({"membership_plans": [BEAN_CLUB, ROASTER]})
    for member in ("ann", "bob", "cat", "gus", "jon", "dan"):
        api.member(member, name=member.title(), enrolled_at=at("2026-08-01T09:00"))
    start(api, "ann", period="year", started_at=at("2026-09-10T10:00"))
    renew(api, "ann", "2026-09-24T10:00", "ann-1")
    start(api, "bob", started_at=at("2026-09-15T10:00"))
    start(api, "cat", started_at=at("2026-10-05T10:00"))
    renew(api, "cat", "2026-10-19T10:00", "cat-1")
    renew(api, "cat", "2026-11-18T10:00", "cat-2")
    start(api, "gus", plan="roaster", started_at=at("2026-11-02T10:00"))
    cancel(api, "gus", "2026-11-20T10:00", at_period_end=True)
    start(api, "jon", started_at=at("2026-11-05T10:00"))
    cancel(api, "jon", "2026-11-08T10:00", at_period_end=False)
    start(api, "dan", started_at=at("2026-11-20T10:00"))
    return api


def test_the_memberships_page_is_accessible_and_shows_the_figures(
    page: Page, live_server: LiveServer, club: ApiClient, engine: Engine
) -> None:
    sign_in(page, live_server, staff(engine, Role.VIEWER))
    page.goto(f"{live_server.url}/admin/p/{club.slug}/dashboard")
    page.get_by_role("navigation", name="Program sections").get_by_role("link", name="Memberships").click()
    expect(page.get_by_role("heading", name="Memberships", exact=True)).to_be_visible()
    expect(page.locator('section[data-plan="bean-club"]')).to_contain_text("€4.99 a month or €49.00 a year")
    # ann 49.00 ÷ 12 + cat 4.99 + gus 12.50 (until his period ends) = 21.573…
    expect(page.locator('[data-metric="mrr"]')).to_have_text("€21.57")
    expect(page.locator('[data-metric="paying"]')).to_have_text("3")
    members = page.get_by_role("table", name="Members by plan and the status of their membership")
    expect(members.locator('tr[data-status="bean-club"]')).to_contain_text("Bean Club")
    expect(page.locator('[data-metric="bean-club-lapsed"]')).to_have_text("1")
    months = page.get_by_role("table", name="Memberships month by month")
    # October: ann paying at the start; cat converts and bob's trial lapses: half the trials finished converted
    expect(months.locator('tr[data-month="2026-10"]')).to_contain_text("50.0%")
    expect(page.locator('[data-metric="2026-11-churn"]')).to_have_text("0.0%")
    assert axe_violations(page, EVERY_IMPACT) == []
    assert fits_the_width(page)
    if page.viewport_name == "desktop":  # type: ignore[attr-defined]
        screenshot(page, "admin-memberships")


def test_a_program_without_plans_explains_how_to_add_them_accessibly(
    page: Page, live_server: LiveServer, make_program: ProgramMaker, engine: Engine
) -> None:
    api = make_program()
    sign_in(page, live_server, staff(engine, Role.MARKETER))
    page.goto(f"{live_server.url}/admin/p/{api.slug}/memberships")
    expect(page.get_by_text("This program sells no paid memberships")).to_be_visible()
    link = page.get_by_role("link", name="Add membership_plans in the program file")
    expect(link).to_have_attribute("href", f"/admin/p/{api.slug}/program/edit#file-heading")
    assert axe_violations(page, EVERY_IMPACT) == []
    assert fits_the_width(page)
