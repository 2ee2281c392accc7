"""The console's referrals page in Chromium at desktop and phone size: the review queue with both members and each
flag's reason, accessible (axe: no violation of any impact) and no wider than the screen; a support user approves a
referral and it moves to the recent decisions; the engagement overview is accessible too. Saves the screenshot of the
queue that the README shows."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from punchcard.staff.domain import Role
from tests.admin.test_engagement import GAMES
from tests.clock import NOW
from tests.e2e.conftest import LiveServer, axe_violations, screenshot
from tests.e2e.test_admin import fits_the_width, sign_in, staff
from tests.factories import ApiClient, ProgramMaker, deliver_outbox, line

EVERY_IMPACT = ("minor", "moderate", "serious", "critical")
WHEN = NOW.isoformat()


def code_of(api: ApiClient, member: str) -> str:
    response = api.get(f"/api/v1/members/{member}/referral")
    assert response.status_code == 200, response.text
    return str(response.json()["code"])


@pytest.fixture
def queue(make_program: ProgramMaker, live_server: LiveServer, client: TestClient) -> tuple[ApiClient, str, list[int]]:
    """Two referrals held for review (a shared phone; a friend who says she ordered before), one paid, one made."""
    referrals = {
        "referrer": {"points": 200},
        "referee": {"points": 100},
        "qualify": {"on": "first_purchase", "min_order_total": "20.00"},
        "caps": {"per_month": 10},
        "fraud_checks": {"self_referral": "hold", "existing_customer": "hold"},
    }
    api = make_program({**GAMES, "referrals": referrals})
    tag = uuid.uuid4().hex[:6]
    anna, liisa = f"anna-{tag}", f"liisa-{tag}"
    api.member(anna, email=f"anna.{tag}@example.com", name="Anna Tamm", attributes={"phone": "+372 5555 0101"})
    api.member(liisa, email=f"liisa.{tag}@example.com", name="Liisa Mets")
    friends = [
        ("jaan", "Jaan Kask", anna, {"phone": "00372 5555 0101"}),
        ("mari", "Mari Saar", liisa, {"orders_count": 3}),
        ("olev", "Olev Rebane", anna, {}),
        ("piret", "Piret Kuusk", liisa, {}),
    ]
    for key, name, referrer, attributes in friends:
        api.member(
            f"{key}-{tag}",
            email=f"{key}.{tag}@example.com",
            name=name,
            referred_by=code_of(api, referrer),
            attributes=attributes,
        )
    api.purchase(f"jaan-{tag}", [line("BEANS", "coffee-beans", "32.50")], order_id=f"SHOP-{tag}-1", occurred_at=WHEN)
    api.purchase(f"olev-{tag}", [line("BEANS", "coffee-beans", "24.00")], occurred_at=WHEN)
    deliver_outbox(client)
    held = [item["id"] for item in api.get("/api/v1/referrals").json()["referrals"]]
    assert len(held) == 2
    return api, f"{live_server.url}/admin/p/{api.slug}", held


def test_the_referral_queue_is_accessible_and_a_support_user_approves_a_referral(
    page: Page, live_server: LiveServer, queue: tuple[ApiClient, str, list[int]], engine: Engine
) -> None:
    _, console, (first, second) = queue
    sign_in(page, live_server, staff(engine, Role.SUPPORT))
    page.goto(f"{console}/referrals")
    expect(page.get_by_role("heading", name="Held for review (2)")).to_be_visible()
    held = page.locator(f'article[data-referral="{first}"]')
    expect(held).to_contain_text("Anna Tamm brought Jaan Kask")
    expect(held).to_contain_text("Self-referral: the same phone number")
    expect(held).to_contain_text("€32.50")
    expect(page.locator(f'article[data-referral="{second}"]')).to_contain_text(
        "Already a customer: the shop says they had 3 orders before"
    )
    assert axe_violations(page, EVERY_IMPACT) == []
    assert fits_the_width(page)
    if page.viewport_name == "desktop":  # type: ignore[attr-defined]
        screenshot(page, "admin-referrals")

    # When support approves Jaan's referral, saying why
    page.get_by_label(f"Reason for the decision on referral {first}").fill("Siblings sharing a phone, checked")
    page.get_by_role("button", name=f"Approve referral {first}").click()

    # Then it leaves the queue and shows among the decisions
    expect(page.get_by_role("status")).to_contain_text("The referral was approved.")
    expect(page.get_by_role("heading", name="Held for review (1)")).to_be_visible()
    expect(page.locator(f'article[data-referral="{first}"]')).to_have_count(0)
    decided = page.locator(f'tr[data-decided="{first}"]')
    expect(decided).to_contain_text("approved")
    expect(decided).to_contain_text("Siblings sharing a phone, checked")
    assert axe_violations(page, EVERY_IMPACT) == []
    assert fits_the_width(page)


def test_the_engagement_overview_is_accessible(
    page: Page, live_server: LiveServer, make_program: ProgramMaker, engine: Engine
) -> None:
    api = make_program(GAMES)
    member = api.member(name="Kadri Lepp")
    assert api.post(f"/api/v1/members/{member}/challenges/explorer/join").status_code == 201
    assert api.request("PUT", f"/api/v1/members/{member}/leaderboard", {"shown": True}).status_code == 200
    api.purchase(member, [line("BEANS", "coffee-beans", "20.00"), line("MUG", "mugs", "9.90")], occurred_at=WHEN)
    sign_in(page, live_server, staff(engine, Role.VIEWER))
    page.goto(f"{live_server.url}/admin/p/{api.slug}/challenges")
    expect(page.get_by_role("heading", name="Challenges, streaks and badges")).to_be_visible()
    expect(page.locator('section[data-challenge="explorer"] tr[data-place="1"]')).to_contain_text("Kadri L.")
    assert axe_violations(page, EVERY_IMPACT) == []
    assert fits_the_width(page)
