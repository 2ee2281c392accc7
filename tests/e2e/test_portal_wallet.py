"""The portal's wallet page in Chromium against a real server: in each of the five languages at phone and desktop
size, reached from the navigation, fitting the screen, with no accessibility violation (axe), its confirmation step
too; then, once, checking a gift card by its code and converting points through the confirmation step, the final
form sent twice converting once. Saves the screenshots the README shows."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import Engine

from punchcard.i18n.catalogue import LANGUAGES
from punchcard.i18n.translator import Translator
from tests.clock import NOW
from tests.e2e.conftest import LiveServer, axe_violations, screenshot
from tests.e2e.portal_steps import ALL_IMPACTS, check, sign_in
from tests.factories import ApiClient, ProgramMaker, line, run_jobs
from tests.smtp import Mailbox

CONVERSION = {"points": 100, "amount": "1.00", "minimum_points": 200}
GIFT_CARDS = {
    "expire_after_months": 36,
    "minimum_validity_months": 0,
    "products": [{"sku": "GIFT-25", "amount": "25.00"}],
}
CASHBACK = {
    "code": "mug-cashback",
    "name": {"en": "2% back on mugs", "et": "2% tagasi kruusidelt", "fi": "2 % takaisin mukeista"},
    "when": "purchase",
    "then": {"cashback_percent": 2, "lines": {"categories": ["mugs"]}},
}

MESSAGES = ("wallet.", "nav.wallet")
"""The keys of this page's messages, none of which may be left in English in another language."""


@dataclass(frozen=True)
class Wallet:
    api: ApiClient
    portal: str
    email: str
    code: str
    """A gift card of €30.00 to check, bought elsewhere."""


def money_call(api: ApiClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(path, body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.text
    return dict(response.json())


def at(days_ago: int) -> str:
    return (NOW - timedelta(days=days_ago)).isoformat()


@pytest.fixture
def wallet(make_program: ProgramMaker, live_server: LiveServer, engine: Engine) -> Wallet:
    """Anna with 675 points to spend (50 for joining, 600 from the shop, 25 for a mug), €5.00 of credit from the
    shop and €2.00 of it spent, cashback spendable on one order and pending on another, and a gift card she bought
    (its return window closed)."""
    rules = [rule for rule in make_program.definition["earning_rules"] if "cashback_percent" not in rule["then"]]
    api = make_program(
        {
            "store_credit": {"conversion": CONVERSION},
            "gift_cards": GIFT_CARDS,
            "earning_rules": [*rules, CASHBACK],
            "points": {"pending_days": 14},
        }
    )
    email = f"anna-{uuid.uuid4().hex[:8]}@example.com"
    api.member("anna", email=email, name="Anna Tamm", language="en", enrolled_at=at(60))
    assert api.post("/api/v1/members/anna/adjustments", {"points": 600, "reason": "Welcome back"}).status_code == 201
    money_call(api, "/api/v1/members/anna/store-credit/grants", {"amount": "5.00", "reason": "Late delivery"})
    api.purchase("anna", [line("GIFT-25", "gift-cards", "25.00")], order_id="O-1", occurred_at=at(30))
    api.purchase("anna", [line("MUG", "mugs", "25.00")], order_id="O-2", occurred_at=at(20))
    run_jobs(api, engine, NOW.isoformat())  # the windows of O-1 and O-2 have closed: the card, the cashback
    api.purchase("anna", [line("MUG", "mugs", "40.00")], order_id="O-3", occurred_at=at(2))
    money_call(api, "/api/v1/members/anna/store-credit/redemptions", {"amount": "2.00", "order_id": "W-7"})
    code = str(money_call(api, "/api/v1/gift-cards", {"amount": "30.00", "currency": "EUR"})["code"])
    return Wallet(api, f"{live_server.url}/portal/{api.slug}", email, code)


def euros(ui: Translator, amount: str) -> str:
    return ui.money(Decimal(amount), "EUR")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_wallet_reads_in_each_language_fitting_and_accessible(
    page: Page, live_server: LiveServer, mailbox: Mailbox, wallet: Wallet, language: str
) -> None:
    ui = Translator(language)
    page.goto(f"{wallet.portal}/sign-in?lang={language}")  # the switch; a cookie keeps it
    sign_in(page, wallet.portal, wallet.email, mailbox, ui)

    page.get_by_role("navigation", name=ui.t("layout.navigation")).get_by_role(
        "link", name=ui.t("nav.wallet"), exact=True
    ).click()
    expect(page.get_by_role("heading", name=ui.t("wallet.title"), level=1)).to_be_visible()
    expect(page.get_by_role("link", name=ui.t("nav.wallet"), exact=True)).to_have_attribute("aria-current", "page")
    expect(page.locator("#credit-balance")).to_have_text(euros(ui, "3.50"))  # 5.00 − 2.00 + 0.50 of cashback
    expect(page.locator("#credit-pending")).to_have_text(ui.t("wallet.credit.pending", amount=euros(ui, "0.80")))
    history = page.get_by_role("list", name=ui.t("wallet.history.title"))
    expect(history.get_by_text(ui.t("wallet.history.spend", order="W-7"))).to_be_visible()
    expect(history.get_by_text(ui.t("wallet.history.adjust", reason="Late delivery"))).to_be_visible()
    expect(history.get_by_text(ui.t("wallet.history.earn_pending", order="O-3"))).to_be_visible()
    expect(page.locator("#convert-rate")).to_have_text(ui.n("wallet.convert.rate", 100, amount=euros(ui, "1.00")))
    bought = page.get_by_role("region", name=ui.t("wallet.bought.title"))
    ending = re.escape(ui.t("wallet.gift_card.ending", last4="@")).replace("@", "[2-9A-Z]{4}")
    expect(bought.get_by_role("heading", level=3)).to_have_text(re.compile(ending))
    check(page, language, "wallet", MESSAGES)
    if language == "en":
        screenshot(page, "portal-wallet")

    page.get_by_label(ui.t("wallet.convert.points")).fill("300")
    page.get_by_role("button", name=ui.t("wallet.convert.next")).click()
    question = ui.n("wallet.convert.question", 300, credit=euros(ui, "3.00"))
    expect(page.get_by_role("heading", name=question, level=1)).to_be_visible()
    check(page, language, "confirmation", MESSAGES)


@pytest.mark.parametrize("page", ["phone"], indirect=True)
def test_a_gift_card_is_checked_and_points_are_converted_once_through_the_confirmation(
    page: Page, live_server: LiveServer, mailbox: Mailbox, wallet: Wallet
) -> None:
    ui = Translator("en")
    sign_in(page, wallet.portal, wallet.email, mailbox, ui)
    page.goto(f"{wallet.portal}/wallet")

    # A gift card by its code, typed as people do
    page.get_by_label("Gift card code").fill(wallet.code.lower().replace("-", " "))
    page.get_by_role("button", name="Check the balance").click()
    result = page.locator("#gift-card-result")
    expect(result.get_by_role("heading", name=f"Gift card ending in {wallet.code[-4:]}")).to_be_visible()
    expect(result.locator("dd").first).to_have_text("€30.00")
    expect(page.get_by_label("Gift card code")).to_be_in_viewport()  # the answer's section is scrolled to
    assert axe_violations(page, ALL_IMPACTS) == []
    page.get_by_label("Gift card code").fill("ABCD-EFGH-JKMN-PQRS")
    page.get_by_role("button", name="Check the balance").click()
    expect(page.get_by_role("alert")).to_have_text("No gift card has this code. Check the code and try again.")
    expect(page.get_by_label("Gift card code")).to_have_attribute("aria-invalid", "true")

    # Points to credit: the confirmation says exactly what happens, then the form sent twice converts once
    page.goto(f"{wallet.portal}/wallet")
    expect(page.locator("#convert-available")).to_have_text("You have 675 points.")
    page.get_by_label("Points to convert").fill("500")
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Convert 500 points to €5.00?", level=1)).to_be_visible()
    expect(page.locator("#convert-after")).to_have_text(
        "Afterwards you will have 175 points and €8.50 of store credit."
    )
    confirm = page.locator(f'form[action="/portal/{wallet.api.slug}/wallet/convert"]')
    form: dict[str, str | float | bool] = {
        name: confirm.locator(f'input[name="{name}"]').input_value() for name in ("csrf", "key", "points")
    }
    page.get_by_role("button", name="Yes, convert").click()
    expect(page.locator("#converted")).to_have_text("Done! Your points are now store credit.")
    expect(page.locator("#credit-balance")).to_have_text("€8.50")
    expect(page.locator("#convert-available")).to_have_text("You have 175 points.")

    again = page.request.post(f"{wallet.portal}/wallet/convert", form=form)  # the same form, sent once more
    assert again.ok
    page.reload()
    expect(page.locator("#credit-balance")).to_have_text("€8.50")
    expect(page.locator("#convert-available")).to_have_text("You have 175 points.")
    history = page.get_by_role("list", name="Latest movements")
    expect(history.get_by_text("Converted from points")).to_have_count(1)
    assert wallet.api.available("anna") == 175
    assert wallet.api.get("/api/v1/members/anna/store-credit").json()["balance"] == "8.50"
