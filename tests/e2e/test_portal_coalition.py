"""The portal's coalition page in Chromium against a real server: a roaster, Bean There (1 point a unit), and a tea
shop, Leaf & Cup (2 points a unit). In each of the five languages at phone and desktop size, reached from the
navigation: the unlinked page, linking, the linked accounts with the coalition balance, the confirmation step of a
movement, the movement and the unlink confirmation, each fitting the screen with no accessibility violation (axe).
Then, once, the movement's final form sent twice moving once. Saves the screenshot the README shows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect

from punchcard.i18n.catalogue import LANGUAGES
from punchcard.i18n.translator import Translator
from tests.clock import NOW
from tests.e2e.conftest import LiveServer, screenshot
from tests.e2e.portal_steps import check, sign_in
from tests.factories import ApiClient, ProgramMaker
from tests.smtp import Mailbox

MESSAGES = ("coalition.", "nav.coalition")
"""The keys of this page's messages, none of which may be left in English in another language."""


@dataclass(frozen=True)
class Brands:
    roaster: ApiClient
    tea: ApiClient
    portal: str
    """The roaster's portal, where Anna signs in."""
    email: str


def adjust(api: ApiClient, member: str, points: int) -> None:
    given = api.post(f"/api/v1/members/{member}/adjustments", {"points": points, "reason": "Welcome back"})
    assert given.status_code == 201, given.text


@pytest.fixture
def brands(make_program: ProgramMaker, live_server: LiveServer) -> Brands:
    """Anna at both brands under one address, not linked yet: 350 Bean There points (350 units) and 150 Leaf & Cup
    points (75 units)."""
    code = f"c-{uuid.uuid4().hex[:8]}"
    tea = make_program(
        {"name": dict.fromkeys(LANGUAGES, "Leaf & Cup"), "coalition": {"code": code, "points_per_unit": 2}}
    )
    owner = {"unit_value": "0.01", "partners": [tea.slug]}
    roaster = make_program(
        {
            "name": dict.fromkeys(LANGUAGES, "Bean There"),
            "coalition": {"code": code, "points_per_unit": 1, "owner": owner},
        }
    )
    email = f"anna-{uuid.uuid4().hex[:8]}@example.com"
    enrolled = (NOW - timedelta(days=60)).isoformat()
    for api, points in ((roaster, 300), (tea, 100)):
        api.member("anna", email=email, name="Anna Tamm", language="en", enrolled_at=enrolled)
        adjust(api, "anna", points)
    return Brands(roaster, tea, f"{live_server.url}/portal/{roaster.slug}", email)


def said(text: str) -> str:
    """A message as the page reads it: a no-break space is a space to ``inner_text``."""
    return " ".join(text.split())


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_coalition_page_reads_in_each_language_fitting_and_accessible(
    page: Page, live_server: LiveServer, mailbox: Mailbox, brands: Brands, language: str
) -> None:
    ui = Translator(language)
    page.goto(f"{brands.portal}/sign-in?lang={language}")  # the switch; a cookie keeps it
    sign_in(page, brands.portal, brands.email, mailbox, ui)

    tab = page.get_by_role("navigation", name=ui.t("layout.navigation")).get_by_role(
        "link", name=ui.t("nav.coalition"), exact=True
    )
    tab.click()
    heading = page.get_by_role("heading", name=ui.t("coalition.title"), level=1)
    expect(heading).to_be_visible()
    expect(tab).to_have_attribute("aria-current", "page")
    rates = page.get_by_role("region", name=ui.t("coalition.brands.title"))
    expect(rates).to_contain_text(said(ui.n("coalition.rate", 2, brand="Leaf & Cup")))
    check(page, language, "not linked", MESSAGES)

    page.get_by_role("button", name=ui.t("coalition.link.submit")).click()
    expect(page.locator("#done")).to_have_text(said(ui.t("coalition.linked")))
    expect(page.locator("#coalition-units")).to_have_text(said(ui.n("coalition.units", 350 + 75)))
    expect(page.locator("#account-" + brands.tea.slug)).to_contain_text(said(ui.n("points", 150)))
    check(page, language, "linked", MESSAGES)

    page.get_by_label(ui.t("coalition.move.points")).fill("100")
    page.get_by_role("button", name=ui.t("coalition.move.next")).click()
    question = ui.t("coalition.confirm.question", brand="Leaf & Cup")
    expect(page.get_by_role("heading", name=said(question), level=1)).to_be_visible()
    received = ui.n("coalition.points_of", 200, brand="Leaf & Cup")
    become = ui.n("coalition.confirm.become", 100, sender="Bean There", received=received)
    expect(page.locator("#move-become")).to_have_text(said(become))
    check(page, language, "confirmation", MESSAGES)

    page.get_by_role("button", name=ui.t("coalition.confirm.yes")).click()
    expect(page.locator("#done")).to_have_text(said(ui.t("coalition.moved")))
    expect(page.locator("#coalition-units")).to_have_text(said(ui.n("coalition.units", 250 + 175)))
    expect(page.get_by_role("region", name=ui.t("coalition.movements.title"))).to_contain_text(
        said(ui.t("coalition.movement.to", brand="Leaf & Cup"))
    )
    check(page, language, "moved", MESSAGES)
    if language == "en":
        screenshot(page, "portal-coalition")

    page.get_by_role("link", name=ui.t("coalition.unlink.button")).click()
    expect(page.get_by_role("heading", name=ui.t("coalition.unlink.question"), level=1)).to_be_visible()
    check(page, language, "unlink", MESSAGES)
    page.get_by_role("button", name=ui.t("coalition.unlink.yes")).click()
    expect(page.locator("#done")).to_have_text(said(ui.t("coalition.unlinked")))
    expect(page.get_by_role("button", name=ui.t("coalition.link.submit"))).to_be_visible()
    check(page, language, "unlinked", MESSAGES)


@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_the_movement_form_sent_twice_moves_once(
    page: Page, live_server: LiveServer, mailbox: Mailbox, brands: Brands
) -> None:
    sign_in(page, brands.portal, brands.email, mailbox, Translator("en"))
    page.goto(f"{brands.portal}/coalition")
    page.get_by_role("button", name="Link my accounts").click()
    expect(page.locator("#coalition-units")).to_have_text("425 units")

    page.get_by_label("Points to move").fill("40")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Move points to Leaf & Cup?", level=1)).to_be_visible()
    expect(page.locator("#move-become")).to_have_text("40 Bean There points become 80 Leaf & Cup points.")
    expect(page.locator("#move-after")).to_have_text(
        "Afterwards you will have 310 Bean There points and 230 Leaf & Cup points."
    )
    confirm = page.locator(f'form[action="/portal/{brands.roaster.slug}/coalition/transfer"]')
    form: dict[str, str | float | bool] = {
        name: confirm.locator(f'input[name="{name}"]').input_value() for name in ("csrf", "key", "to", "points")
    }
    page.get_by_role("button", name="Yes, move").click()
    expect(page.locator("#done")).to_have_text("Done! Your points have moved.")

    again = page.request.post(f"{brands.portal}/coalition/transfer", form=form)  # the same form, once more
    assert again.ok
    page.reload()
    expect(page.locator("#account-" + brands.roaster.slug)).to_contain_text("310 points")
    expect(page.locator("#account-" + brands.tea.slug)).to_contain_text("230 points")
    assert (brands.roaster.available("anna"), brands.tea.available("anna")) == (310, 230)
