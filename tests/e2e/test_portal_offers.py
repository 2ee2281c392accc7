"""The portal's rewards page with a member-only offer, in Chromium against a real server at desktop and phone size: the
seasonal roast that Gold members may take 48 hours before the rest is locked for a Silver member, with when it opens
for them and no way to redeem it, and redeemable for a Gold member through the confirmation step; the Silver member's
page in each of the five languages with no accessibility violation (axe); and the screenshot the README shows."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from playwright.sync_api import Locator, Page, expect

from punchcard.i18n.catalogue import LANGUAGES
from punchcard.i18n.translator import Translator, language_name
from tests.clock import NOW
from tests.e2e.conftest import LiveServer, axe_violations, screenshot
from tests.e2e.test_portal import DEMO, Member, fits_the_width, sign_in
from tests.e2e.test_portal_engagement import ALL_IMPACTS
from tests.factories import ProgramMaker, line
from tests.offer.test_offers import EARLY_BEANS, YESTERDAY, program
from tests.smtp import Mailbox

OPENS_FOR_SILVER = date(2026, 11, 26), "14:00"
"""``early-beans`` starts 24 hours after ``NOW``: 26 November 2026 at 12:00 UTC, 14:00 in Tallinn."""


@dataclass(frozen=True)
class Tiered:
    silver: Member
    gold: Member


@pytest.fixture
def tiered(make_program: ProgramMaker, live_server: LiveServer) -> Tiered:
    """The demo program with the seasonal roast only through ``early-beans``, and two members called Anna Tamm (the
    name ``sign_in`` greets): one order of coffee beans made one Silver (600 points) and the other Gold (1,600)."""
    api = program(make_program, EARLY_BEANS)
    members = {}
    for tier, euros in (("silver", "300.00"), ("gold", "800.00")):
        email = f"{tier}-{uuid.uuid4().hex[:8]}@example.com"
        enrolled = (NOW - timedelta(days=3)).isoformat()
        api.member(tier, email=email, name="Anna Tamm", language="en", enrolled_at=enrolled)
        api.purchase(tier, [line("SACK", "coffee-beans", euros)], occurred_at=YESTERDAY)
        assert api.get(f"/api/v1/members/{tier}").json()["tier"]["code"] == tier
        members[tier] = Member(email, f"{live_server.url}/portal/{api.slug}")
    return Tiered(members["silver"], members["gold"])


def seasonal_roast(page: Page) -> Locator:
    """The rewards page's card of the seasonal roast."""
    return page.locator("li.reward").filter(has=page.get_by_role("heading", name="Seasonal roast", exact=True))


def early_access_text(language: str) -> str:
    """What the locked seasonal roast says to a Silver member in ``language``."""
    ui = Translator(language)
    assert DEMO.tiers is not None
    day, time = OPENS_FOR_SILVER
    gold = ui.text(DEMO.tiers.by_code("gold").name)
    return ui.t("rewards.locked.early_access", tiers=gold, date=ui.date(day), time=time)


def test_a_silver_member_sees_the_seasonal_roast_locked_until_it_opens_for_them(
    page: Page, live_server: LiveServer, mailbox: Mailbox, tiered: Tiered
) -> None:
    sign_in(page, tiered.silver, mailbox)
    page.goto(f"{tiered.silver.portal}/rewards")
    card = seasonal_roast(page)
    expect(card).to_have_count(1)
    expect(card).to_have_class(re.compile(r"\blocked\b"))
    expect(card.locator(".locked-reason")).to_have_text(
        "Gold members have it first; yours from November 26, 2026 at 14:00."
    )
    assert early_access_text("en") == "Gold members have it first; yours from November 26, 2026 at 14:00."
    expect(card.get_by_role("link")).to_have_count(0)
    expect(page.get_by_role("link", name="Redeem Seasonal roast")).to_have_count(0)
    expect(page.get_by_role("link", name="Redeem A free drink")).to_be_visible()  # the rest of the catalogue is open
    assert fits_the_width(page)
    if page.viewport_name == "phone":  # type: ignore[attr-defined]
        screenshot(page, "portal-rewards-offer")


def test_a_gold_member_redeems_the_seasonal_roast_through_the_confirmation(
    page: Page, live_server: LiveServer, mailbox: Mailbox, tiered: Tiered
) -> None:
    sign_in(page, tiered.gold, mailbox)
    page.goto(f"{tiered.gold.portal}/rewards")
    card = seasonal_roast(page)
    expect(card.get_by_text("You can redeem this now.")).to_be_visible()
    expect(card.locator(".locked-reason")).to_have_count(0)
    card.get_by_role("link", name="Redeem Seasonal roast").click()
    expect(page.get_by_role("heading", name="Redeem Seasonal roast?")).to_be_visible()
    expect(page.get_by_text("This uses 300 points.")).to_be_visible()
    page.get_by_role("button", name="Yes, redeem").click()
    expect(page.get_by_text("Done! Here is your coupon for Seasonal roast.")).to_be_visible()
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}", page.locator("#coupon-code").inner_text())
    expect(page.get_by_role("img", name="QR code of the coupon code")).to_be_visible()
    assert fits_the_width(page)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_locked_offer_reads_in_each_language_and_the_page_stays_accessible(
    page: Page, live_server: LiveServer, mailbox: Mailbox, tiered: Tiered, language: str
) -> None:
    ui = Translator(language)
    sign_in(page, tiered.silver, mailbox)
    page.get_by_role("form", name="Language").get_by_role("button", name=language_name(language)).click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    page.goto(f"{tiered.silver.portal}/rewards")
    expect(page.get_by_role("heading", name=ui.t("rewards.title"), level=1)).to_be_visible()
    card = seasonal_roast(page)
    expect(card.locator(".locked-reason")).to_have_text(early_access_text(language))
    expect(card.get_by_role("link")).to_have_count(0)
    assert fits_the_width(page)
    assert axe_violations(page, ALL_IMPACTS) == []
