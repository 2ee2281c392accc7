"""The member portal in Chromium against a real server, at desktop and phone size: signing in by the e-mailed link
(caught by a real SMTP server), the balance, redeeming a reward and the coupon; accessibility (axe) on every page;
every page in each of the five languages; the keyboard; and the screenshots the README shows."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from punchcard.i18n.catalogue import LANGUAGES
from punchcard.i18n.translator import Translator, language_name
from punchcard.program.service import parse_text
from tests.clock import NOW
from tests.e2e.conftest import ROOT, LiveServer, axe_violations, screenshot
from tests.factories import ApiClient, ProgramMaker, line
from tests.portal.conftest import link_in
from tests.smtp import Mailbox


@dataclass(frozen=True)
class Member:
    email: str
    portal: str
    """The portal's address, e.g. ``http://127.0.0.1:PORT/portal/SLUG``."""


@pytest.fixture
def member(make_program: ProgramMaker, live_server: LiveServer) -> Member:
    """Anna: a welcome bonus (50) and two orders of coffee beans (59 and 100 points) in the last three days: 209
    points."""
    api: ApiClient = make_program()
    email = f"anna-{uuid.uuid4().hex[:8]}@example.com"
    now = NOW
    api.member("anna", email=email, name="Anna Tamm", language="en", enrolled_at=(now - timedelta(days=3)).isoformat())
    for order, days_ago, beans in (
        ("O-1", 2, line("BEANS-1", "coffee-beans", "29.50")),
        ("O-2", 1, line("BEANS-2", "coffee-beans", "25.00", 2)),
    ):
        api.purchase("anna", [beans], order_id=order, occurred_at=(now - timedelta(days=days_ago)).isoformat())
    return Member(email, f"{live_server.url}/portal/{api.slug}")


def sign_in(page: Page, member: Member, mailbox: Mailbox) -> None:
    """Ask for a link on the sign-in page and open the one that arrives by mail."""
    page.goto(f"{member.portal}/sign-in")
    page.get_by_label("E-mail address").fill(member.email)
    page.get_by_role("button", name="Send me a sign-in link").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    page.goto(link_in(mailbox.wait_for(member.email)))
    expect(page.get_by_role("heading", name="Hello, Anna Tamm!")).to_be_visible()


def redeem_free_drink(page: Page, member: Member) -> str:
    """Redeem the free drink through the confirmation step; returns the coupon code shown."""
    page.goto(f"{member.portal}/rewards")
    page.get_by_role("link", name="Redeem A free drink").click()
    expect(page.get_by_role("heading", name="Redeem A free drink?")).to_be_visible()
    expect(page.get_by_text("This uses 150 points.")).to_be_visible()
    page.get_by_role("button", name="Yes, redeem").click()
    expect(page.get_by_text("Done! Here is your coupon for A free drink.")).to_be_visible()
    code = page.locator("#coupon-code").inner_text()
    assert re.fullmatch(r"[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}", code)
    return code


def fits_the_width(page: Page) -> bool:
    """Nothing sticks out sideways: the page never scrolls horizontally (at 360 px, too)."""
    return bool(page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_member_signs_in_by_mail_sees_the_balance_redeems_and_gets_the_coupon(
    page: Page, live_server: LiveServer, mailbox: Mailbox, member: Member
) -> None:
    sign_in(page, member, mailbox)
    expect(page.locator("#available-points")).to_have_text("209 points")
    expect(page.get_by_text("341 more points to reach Silver")).to_be_visible()
    assert fits_the_width(page)
    screenshot(page, "portal-home")

    page.get_by_role("link", name="History").click()
    expect(page.get_by_text("59 points for order O-1: 2 points per € on coffee beans")).to_be_visible()
    screenshot(page, "portal-history")

    page.goto(f"{member.portal}/rewards")
    expect(page.get_by_text("You need 291 more points.")).to_be_visible()
    screenshot(page, "portal-rewards")

    code = redeem_free_drink(page, member)
    expect(page.get_by_role("img", name="QR code of the coupon code")).to_be_visible()
    expect(page.get_by_text(re.compile(r"Ready to use · valid until \w+ \d+, \d{4}"))).to_be_visible()
    assert fits_the_width(page)
    screenshot(page, "portal-coupon")

    page.get_by_role("link", name="Home").click()
    expect(page.locator("#available-points")).to_have_text("59 points")
    page.get_by_role("link", name="My coupons").click()
    expect(page.get_by_role("link", name=re.compile(code))).to_be_visible()

    page.get_by_role("link", name="Card").click()
    expect(page.get_by_role("img", name="QR code of your member number")).to_be_visible()
    expect(page.get_by_role("img", name="Barcode of your member number")).to_be_visible()
    assert fits_the_width(page)
    screenshot(page, "portal-card")


def test_the_copy_button_puts_the_coupon_code_on_the_clipboard(
    page: Page, live_server: LiveServer, mailbox: Mailbox, member: Member
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(page, member, mailbox)
    code = redeem_free_drink(page, member)
    page.get_by_role("button", name="Copy code").click()
    expect(page.get_by_text("The code is copied. Paste it at checkout.")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == code


def test_a_member_can_do_everything_with_the_keyboard(
    page: Page, live_server: LiveServer, mailbox: Mailbox, member: Member
) -> None:
    sign_in(page, member, mailbox)
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"

    page.goto(f"{member.portal}/rewards/free-drink")
    for _ in range(30):  # tab through the page to the confirmation button and press it
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.textContent.trim()") == "Yes, redeem":
            break
    page.keyboard.press("Enter")
    expect(page.get_by_text("Done! Here is your coupon for A free drink.")).to_be_visible()


def test_no_portal_page_has_serious_accessibility_problems(
    page: Page, live_server: LiveServer, mailbox: Mailbox, member: Member
) -> None:
    page.goto(f"{member.portal}/sign-in")
    assert axe_violations(page) == [], "sign-in"
    screenshot(page, "portal-sign-in")
    page.goto(f"{member.portal}/auth/link?token=used-or-unknown")
    assert axe_violations(page) == [], "invalid link"
    sign_in(page, member, mailbox)
    code = redeem_free_drink(page, member)
    for path in (
        "",
        "/history",
        "/rewards",
        "/rewards/free-drink",
        "/coupons",
        f"/coupons/{code}",
        "/card",
        "/profile",
        "/no-such-page",
    ):
        page.goto(f"{member.portal}{path}")
        assert axe_violations(page) == [], path


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_reads_in_each_language_fits_the_screen_and_stays_accessible(
    page: Page, live_server: LiveServer, mailbox: Mailbox, member: Member, language: str
) -> None:
    ui = Translator(language)
    sign_in(page, member, mailbox)
    page.get_by_role("form", name="Language").get_by_role("button", name=language_name(language)).click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    for path in ("", "/history", "/rewards", "/rewards/free-drink", "/coupons", "/card", "/profile"):
        page.goto(f"{member.portal}{path}")
        assert page.evaluate("() => document.documentElement.lang") == language, path
        expect(page.get_by_role("navigation", name=ui.t("layout.navigation"))).to_be_visible()
        expect(page.get_by_role("link", name=ui.t("nav.rewards"), exact=True)).to_be_visible()
        assert untranslated_program_texts(page.inner_text("body"), language) == [], path
        assert fits_the_width(page), path
        assert axe_violations(page) == [], path


DEMO = parse_text((ROOT / "examples" / "demo" / "program.yaml").read_text(encoding="utf-8"), "yaml").to_domain()


def untranslated_program_texts(text: str, language: str) -> list[str]:
    """The demo program's texts shown in its first language on a page in ``language``, although it has them in
    ``language`` too (a text the shop writes the same in both cannot tell, and is left out)."""
    translated = [found for _, found in DEMO.texts() if found.in_language(language) != found.default]
    return [found.default for found in translated if found.default in text]


def test_the_portal_installs_as_an_app_and_the_card_reads_offline(page: Page, member: Member, mailbox: Mailbox) -> None:
    sign_in(page, member, mailbox)
    # The manifest names the program, its colour and icons that load
    manifest = page.request.get(f"{member.portal}/manifest.webmanifest").json()
    assert manifest["display"] == "standalone"
    assert member.portal.endswith(manifest["scope"])
    for icon in manifest["icons"]:
        assert page.request.get(member.portal.split("/portal/")[0] + icon["src"]).status == 200
    # The service worker takes charge of the portal, and the home page and card are kept as they are seen
    page.wait_for_function("() => navigator.serviceWorker.getRegistration().then(found => !!(found && found.active))")
    page.reload()
    page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    page.goto(f"{member.portal}/card")
    page.goto(member.portal)
    expect(page.locator("#available-points")).to_have_text("209 points")
    # Offline, the member still reads their points and their card, told that they are offline
    page.context.set_offline(True)
    page.reload()
    expect(page.locator("#available-points")).to_have_text("209 points")
    expect(page.locator("[data-offline]")).to_be_visible()
    page.goto(f"{member.portal}/card")
    expect(page.locator("svg").first).to_be_visible()
    assert axe_violations(page) == []
    page.context.set_offline(False)
    # Signing out forgets what was kept
    page.goto(member.portal)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_function("async () => (await caches.keys()).every(name => !name.startsWith('punchcard-portal:'))")
