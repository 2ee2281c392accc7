"""The portal's causes page in Chromium against a real server: in each of the five languages at phone and desktop
size, reached from the navigation, fitting the screen, with no accessibility violation (axe), its confirmation step
too; then, once, giving points through the confirmation step, the final form sent twice giving once, and a standing
gift set. Saves the screenshot the README shows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from punchcard.i18n.catalogue import LANGUAGES
from punchcard.i18n.translator import Translator
from tests.clock import NOW
from tests.e2e.conftest import LiveServer, axe_violations, screenshot
from tests.e2e.portal_steps import ALL_IMPACTS, check, sign_in
from tests.factories import ApiClient, ProgramMaker
from tests.smtp import Mailbox

DONORS = (2500, 1200, 800)
"""What the other members gave: €45.00, matched one to one."""

MESSAGES = ("causes.",)
"""The keys of this page's messages, none of which may be left in English in another language."""


@dataclass(frozen=True)
class Causes:
    api: ApiClient
    portal: str
    email: str
    names: dict[str, str]
    """The cause's name in each language."""


def adjust(api: ApiClient, member: str, points: int) -> None:
    given = api.post(f"/api/v1/members/{member}/adjustments", {"points": points, "reason": "Welcome back"})
    assert given.status_code == 201, given.text


def donate(api: ApiClient, member: str, points: int) -> None:
    body = {"cause": "baltic-sea", "points": points}
    answer = api.post(f"/api/v1/members/{member}/donations", body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code == 201, answer.text


@pytest.fixture
def causes(make_program: ProgramMaker, live_server: LiveServer) -> Causes:
    """The demo program's Baltic Sea Foundation with a goal of €2,000.00; three members gave to it, and Anna (650
    points: 50 for joining, 600 from the shop) gave 150 of hers."""
    baltic_sea = {**make_program.definition["causes"][0], "goal": "2000.00"}
    api = make_program({"causes": [baltic_sea]})
    for points in DONORS:
        donor = api.member()
        adjust(api, donor, points)
        donate(api, donor, points)
    email = f"anna-{uuid.uuid4().hex[:8]}@example.com"
    api.member("anna", email=email, name="Anna Tamm", language="en", enrolled_at=(NOW - timedelta(days=60)).isoformat())
    adjust(api, "anna", 600)
    donate(api, "anna", 150)
    return Causes(api, f"{live_server.url}/portal/{api.slug}", email, dict(baltic_sea["name"]))


def euros(ui: Translator, amount: str) -> str:
    return ui.money(Decimal(amount), "EUR")


def said(text: str) -> str:
    """A message as the page reads it: a no-break space (in "2,00 €") is a space to ``inner_text``."""
    return " ".join(text.split())


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_causes_read_in_each_language_fitting_and_accessible(
    page: Page, live_server: LiveServer, mailbox: Mailbox, causes: Causes, language: str
) -> None:
    ui = Translator(language)
    page.goto(f"{causes.portal}/sign-in?lang={language}")  # the switch; a cookie keeps it
    sign_in(page, causes.portal, causes.email, mailbox, ui)

    page.get_by_role("navigation", name=ui.t("layout.navigation")).get_by_role(
        "link", name=ui.t("causes.nav"), exact=True
    ).click()
    expect(page.get_by_role("heading", name=ui.t("causes.title"), level=1)).to_be_visible()
    expect(page.get_by_role("link", name=ui.t("causes.nav"), exact=True)).to_have_attribute("aria-current", "page")
    cause = causes.names[language]
    card = page.get_by_role("region", name=cause)
    together = ui.t("causes.together", amount=euros(ui, "93.00"), cause=cause)  # (4 500 + 150 points) × 2 cents
    expect(card.locator("#cause-baltic-sea-together")).to_have_text(said(together))
    donors = ui.n("causes.donors_matched", 4, matched=euros(ui, "46.50"))
    expect(card.locator("#cause-baltic-sea-donors")).to_have_text(said(donors))
    expect(card.get_by_role("progressbar", name=said(ui.t("causes.goal", amount=euros(ui, "2000.00"))))).to_be_visible()
    expect(card.locator("#cause-baltic-sea-mine")).to_have_text(
        said(ui.n("causes.mine", 150, amount=euros(ui, "1.50")))
    )
    check(page, language, "causes", MESSAGES)
    if language == "en":
        screenshot(page, "portal-causes")

    card.get_by_label(ui.t("causes.give.points")).fill("200")
    card.get_by_role("button", name=ui.t("causes.give.next")).click()
    question = ui.n("causes.confirm.question", 200, value=euros(ui, "2.00"), cause=cause)
    expect(page.get_by_role("heading", name=said(question), level=1)).to_be_visible()
    check(page, language, "confirmation", MESSAGES)


@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_points_are_given_once_through_the_confirmation_and_a_standing_gift_is_set(
    page: Page, live_server: LiveServer, mailbox: Mailbox, causes: Causes
) -> None:
    sign_in(page, causes.portal, causes.email, mailbox, Translator("en"))
    page.goto(f"{causes.portal}/causes")
    expect(page.locator("#causes-available")).to_have_text("You have 500 points to give.")

    # The confirmation says exactly what happens, then the form sent twice gives once
    page.get_by_label("Points to give").fill("200")
    page.get_by_role("button", name="Continue").click()
    expect(
        page.get_by_role("heading", name="Give 200 points (€2.00) to Baltic Sea Foundation?", level=1)
    ).to_be_visible()
    expect(page.locator("#give-matched")).to_have_text("The shop will add up to €2.00 more.")
    expect(page.locator("#give-after")).to_have_text("Afterwards you will have 300 points.")
    confirm = page.locator(f'form[action="/portal/{causes.api.slug}/causes/baltic-sea/give"]')
    form: dict[str, str | float | bool] = {
        name: confirm.locator(f'input[name="{name}"]').input_value() for name in ("csrf", "key", "points")
    }
    page.get_by_role("button", name="Yes, give").click()
    expect(page.locator("#given")).to_have_text("Thank you! Your points have been given.")
    expect(page.locator("#causes-available")).to_have_text("You have 300 points to give.")
    expect(page.locator("#cause-baltic-sea-mine")).to_have_text("You gave 350 points (€3.50).")
    expect(page.locator("#cause-baltic-sea-together")).to_have_text("Together we gave €97.00 to Baltic Sea Foundation.")

    again = page.request.post(f"{causes.portal}/causes/baltic-sea/give", form=form)  # the same form, once more
    assert again.ok
    page.reload()
    expect(page.locator("#causes-available")).to_have_text("You have 300 points to give.")
    expect(page.locator("#cause-baltic-sea-mine")).to_have_text("You gave 350 points (€3.50).")
    assert causes.api.available("anna") == 300

    # Giving as she earns: the balance kept at a multiple of 100
    page.get_by_label("Round my balance down to a multiple of 100 points and give the rest").check()
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#standing-said")).to_have_text("Done: you now give as you earn.")
    expect(page.locator("#standing-now")).to_have_text(
        "After every earning, your balance is rounded down to a multiple of 100 points and the rest goes to "
        "Baltic Sea Foundation."
    )
    assert axe_violations(page, ALL_IMPACTS) == []
    gift = causes.api.get("/api/v1/members/anna/donations").json()["standing_gift"]
    assert gift == {"cause": "baltic-sea", "kind": "round_down", "value": 100}
