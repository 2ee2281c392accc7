"""The portal's wallet page: the member's store credit and pending cashback with each kind of movement in words;
converting points to credit through a confirmation step, once per form however often it is sent, and refused with a
message (not offered, below the minimum, more points than the member has) that changes nothing; checking a gift
card by its code (found, unknown, and the guessing limit); the gift cards the member bought; the page in every
language, in the navigation of every program, and light enough."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from punchcard.i18n.catalogue import LANGUAGES
from punchcard.i18n.translator import Translator
from tests.factories import ApiClient, at_moment, line, run_jobs
from tests.portal.conftest import CSRF, KEY, NOW, Browser, enrol_anna, visible
from tests.portal.test_i18n import english_leftovers, fallen_back
from tests.portal.test_page_weight import ASSETS, LIMIT

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
KEY_OF_FORM = "form-key-0123456789abcdef"
"""A key as the confirmation page generates them (URL-safe, 16 to 64 characters)."""


def wallet_program(
    browser: Browser,
    make_program: Any,
    *,
    conversion: dict[str, Any] | None = CONVERSION,
    pending_days: int = 0,
) -> ApiClient:
    """Anna (209 points: see ``enrol_anna``), signed in, in a fresh demo program that converts points at
    ``conversion`` (none: ``None``), sells gift cards and gives 2% of mugs back as store credit; returns its API
    client."""
    rules = [rule for rule in make_program.definition["earning_rules"] if "cashback_percent" not in rule["then"]]
    changes = {
        "store_credit": {"conversion": conversion},
        "gift_cards": GIFT_CARDS,
        "earning_rules": [*rules, CASHBACK],
        "points": {"pending_days": pending_days},
    }
    browser.api = make_program(changes)
    anna = enrol_anna(browser.api)
    assert browser.sign_in(anna.email).status_code == 303
    return browser.api


def money_call(api: ApiClient, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post(path, body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.text
    return dict(response.json())


def grant(api: ApiClient, amount: str, reason: str) -> None:
    money_call(api, "/api/v1/members/anna/store-credit/grants", {"amount": amount, "reason": reason})


def credit(api: ApiClient) -> dict[str, Any]:
    response = api.get("/api/v1/members/anna/store-credit")
    assert response.status_code == 200, response.text
    return dict(response.json())


def issue_card(api: ApiClient, amount: str = "30.00") -> str:
    return str(money_call(api, "/api/v1/gift-cards", {"amount": amount, "currency": "EUR"})["code"])


def wallet_text(browser: Browser, path: str = "/wallet", status: int = 200) -> str:
    page = browser.get(path)
    assert page.status_code == status, visible(page.text)
    return visible(page.text)


def history(text: str) -> str:
    """The movements' part of the page's text."""
    return text.split("Latest movements", 1)[1]


# --- store credit ----------------------------------------------------------------------------------------------------


def test_the_page_shows_the_spendable_balance_and_says_when_nothing_moved_yet(
    browser: Browser, make_program: Any
) -> None:
    wallet_program(browser, make_program)
    text = wallet_text(browser)
    assert (
        "Wallet Store credit Money to spend €0.00 You can pay with it at the shop's checkout. Latest movements "
        "Nothing has been added to or paid from your store credit yet."
    ) in text
    assert "Pending cashback" not in text


def test_each_kind_of_movement_reads_in_words_newest_first_with_its_change(browser: Browser, make_program: Any) -> None:
    api = wallet_program(browser, make_program)
    grant(api, "5.00", "Late delivery")
    api.purchase("anna", [line("MUG", "mugs", "25.00")], order_id="O-3")  # 2% back: €0.50
    money_call(api, "/api/v1/members/anna/store-credit/redemptions", {"amount": "3.00", "order_id": "W-1"})
    money_call(api, "/api/v1/members/anna/store-credit/refunds", {"amount": "4.00", "order_id": "W-1"})
    api.refund("anna", "O-3", amount="25.00")
    money_call(api, "/api/v1/members/anna/conversions", {"points": 200})

    text = wallet_text(browser)

    assert "Money to spend €8.00" in text
    assert credit(api)["balance"] == "8.00"
    day = "November 25, 2026"  # when the API's clock made the movements of money; the purchase is dated 1 June
    assert history(text).startswith(
        f" Converted from points {day} +€2.00"
        " Cashback taken back (refund of order O-3) June 10, 2026 −€0.50"
        f" Refund of order W-1 {day} +€1.00"  # the part that the credit did not pay: new credit
        f" Refund of order W-1 {day} +€3.00"  # what the credit paid, back to it
        f" Paid for order W-1 {day} −€3.00"
        " Cashback on order O-3 June 1, 2026 +€0.50"
        f" Credit from the shop: Late delivery {day} +€5.00"
    ), history(text)


def test_pending_cashback_is_shown_apart_explained_and_said_available_once_the_window_closes(
    browser: Browser, make_program: Any, engine: Engine
) -> None:
    api = wallet_program(browser, make_program, pending_days=14)
    api.purchase("anna", [line("MUG", "mugs", "25.00")], order_id="O-3", occurred_at="2026-06-05T10:00:00+00:00")

    text = wallet_text(browser)
    assert (
        "Money to spend €0.00 You can pay with it at the shop's checkout. Pending cashback: €0.50 "
        "Cashback waits until the order can no longer be returned; then it becomes store credit you can spend."
    ) in text
    assert history(text).startswith(" Pending cashback on order O-3 June 5, 2026 +€0.50")

    run_jobs(api, engine, "2026-06-20T00:00:00+00:00")  # the window closed as 19 June began in Tallinn
    text = wallet_text(browser)
    assert "Money to spend €0.50" in text
    assert "Pending cashback:" not in text
    assert history(text).startswith(
        " Cashback now available June 19, 2026 +€0.50 Pending cashback on order O-3 June 5, 2026 +€0.50"
    ), history(text)


def test_pending_cashback_refunded_inside_the_window_is_taken_back_from_pending(
    browser: Browser, make_program: Any
) -> None:
    api = wallet_program(browser, make_program, pending_days=14)
    api.purchase("anna", [line("MUG", "mugs", "25.00")], order_id="O-3", occurred_at="2026-06-05T10:00:00+00:00")
    api.refund("anna", "O-3", refund_lines=[{"sku": "MUG", "quantity": 1}], occurred_at="2026-06-08T10:00:00+00:00")

    text = wallet_text(browser)
    assert "Pending cashback:" not in text
    assert history(text).startswith(
        " Cashback taken back (refund of order O-3) June 8, 2026 −€0.50"
        " Pending cashback on order O-3 June 5, 2026 +€0.50"
    ), history(text)


# --- converting points ---------------------------------------------------------------------------------------------


def confirmation(browser: Browser, points: str, status: int = 200) -> tuple[str, str]:
    """The confirmation step's text and the key its form carries."""
    page = browser.get(f"/wallet/convert?points={points}")
    assert page.status_code == status, visible(page.text)
    key = KEY.search(page.text)
    return visible(page.text), key.group(1) if key else ""


def post_conversion(browser: Browser, points: str, key: str) -> Any:
    return browser.post("/wallet/convert", {"points": points, "key": key, "csrf": browser.csrf("/wallet")})


def test_the_form_shows_the_rate_the_minimum_and_the_points_the_member_has(browser: Browser, make_program: Any) -> None:
    wallet_program(browser, make_program)
    page = browser.get("/wallet")
    assert (
        "Convert points to store credit 100 points are worth €1.00. You can convert at least 200 points at a time. "
        "You have 209 points. Points to convert Continue"
    ) in visible(page.text)
    assert f'action="{browser.url("/wallet/convert")}"' in page.text
    assert 'name="points" type="number"' in page.text


def test_a_conversion_is_confirmed_first_then_made_once_however_often_the_form_is_sent(
    browser: Browser, make_program: Any
) -> None:
    api = wallet_program(browser, make_program)
    text, key = confirmation(browser, "200")
    assert "Convert 200 points to €2.00? Convert points to store credit" in text
    assert "Afterwards you will have 9 points and €2.00 of store credit. Yes, convert Cancel" in text
    assert (api.available("anna"), credit(api)["balance"]) == (209, "0.00")  # the step changes nothing

    first = post_conversion(browser, "200", key)
    again = post_conversion(browser, "200", key)

    assert (first.status_code, again.status_code) == (303, 303)
    assert first.headers["location"] == again.headers["location"] == browser.url("/wallet?converted=1")
    assert (api.available("anna"), credit(api)["balance"]) == (9, "2.00")
    text = wallet_text(browser, "/wallet?converted=1")
    assert "Wallet Done! Your points are now store credit. Store credit Money to spend €2.00" in text
    assert "You have 9 points." in text
    assert history(text).count("Converted from points") == 1


def test_each_confirmation_carries_its_own_key(browser: Browser, make_program: Any) -> None:
    api = wallet_program(browser, make_program)
    _, first = confirmation(browser, "200")
    _, second = confirmation(browser, "200")
    assert first != second
    assert post_conversion(browser, "100", first).status_code == 422  # refused: the key is not used up
    assert post_conversion(browser, "200", first).status_code == 303
    assert post_conversion(browser, "200", second).status_code == 422  # a second conversion: too few points left
    assert (api.available("anna"), credit(api)["balance"]) == (9, "2.00")


def test_the_quote_spends_only_the_points_the_credit_costs(browser: Browser, make_program: Any) -> None:
    api = wallet_program(browser, make_program, conversion={"points": 3, "amount": "0.01", "minimum_points": 0})
    text, key = confirmation(browser, "205")
    # 205 points are worth 68⅓ cents: 68 cents, which cost 204 points; one point stays Anna's
    assert "Convert 204 points to €0.68?" in text
    assert "Afterwards you will have 5 points and €0.68 of store credit." in text
    assert "The other 1 point stays yours: it is worth less than the smallest coin." in text
    assert post_conversion(browser, "205", key).status_code == 303
    assert (api.available("anna"), credit(api)["balance"]) == (5, "0.68")


@pytest.mark.parametrize(
    ("conversion", "points", "status", "message"),
    [
        (None, "200", 409, "This shop does not exchange points for store credit."),
        (CONVERSION, "150", 422, "You can convert at least 200 points at a time."),
        (CONVERSION, "300", 422, "You have only 209 points to convert."),
        ({"points": 1000, "amount": "0.01"}, "500", 422, "These points are worth less than the smallest coin"),
        (CONVERSION, "abc", 400, "Enter a whole number of points, such as 500."),
        (CONVERSION, "0", 400, "Enter a whole number of points, such as 500."),
    ],
)
def test_a_conversion_that_cannot_be_made_says_why_on_the_page_and_changes_nothing(
    browser: Browser,
    make_program: Any,
    conversion: dict[str, Any] | None,
    points: str,
    status: int,
    message: str,
) -> None:
    api = wallet_program(browser, make_program, conversion=conversion)
    asked_first, _ = confirmation(browser, points, status)
    sent_anyway = post_conversion(browser, points, KEY_OF_FORM)

    assert sent_anyway.status_code == status, visible(sent_anyway.text)
    for text in (asked_first, visible(sent_anyway.text)):
        assert message in text
        assert "Wallet" in text  # the wallet page, not an error page
    assert (api.available("anna"), credit(api)["balance"]) == (209, "0.00")
    assert "Converted from points" not in wallet_text(browser)


def test_without_a_rate_the_page_has_no_conversion_form(browser: Browser, make_program: Any) -> None:
    wallet_program(browser, make_program, conversion=None)
    page = browser.get("/wallet")
    assert "Convert points" not in visible(page.text)
    assert 'name="points"' not in page.text


def test_a_conversion_needs_the_forms_token_and_key(browser: Browser, make_program: Any) -> None:
    api = wallet_program(browser, make_program)
    _, key = confirmation(browser, "200")
    no_token = browser.post("/wallet/convert", {"points": "200", "key": key, "csrf": "0" * 64})
    no_key = browser.post("/wallet/convert", {"points": "200", "key": "", "csrf": browser.csrf("/wallet")})
    assert (no_token.status_code, no_key.status_code) == (403, 403)
    assert "This form has expired" in visible(no_token.text)
    assert (api.available("anna"), credit(api)["balance"]) == (209, "0.00")


def test_the_confirmation_step_without_points_and_the_checks_answer_asked_again_lead_to_the_wallet(
    browser: Browser, make_program: Any
) -> None:
    wallet_program(browser, make_program)
    for path in ("/wallet/convert", "/wallet/gift-card"):
        page = browser.get(path)
        assert (page.status_code, page.headers["location"]) == (303, browser.url("/wallet")), path


# --- gift cards ------------------------------------------------------------------------------------------------------


def check(browser: Browser, code: str) -> Any:
    return browser.post("/wallet/gift-card", {"code": code, "csrf": browser.csrf("/wallet")})


def test_a_gift_card_checked_by_its_code_shows_its_balance_status_and_last_day(
    browser: Browser, make_program: Any
) -> None:
    api = wallet_program(browser, make_program)
    code = issue_card(api, "30.00")
    money_call(api, f"/api/v1/gift-cards/{code}/redemptions", {"amount": "12.50", "order_id": "W-2"})

    page = check(browser, code.lower().replace("-", " "))  # as typed: lower case, grouped with spaces

    assert page.status_code == 200, visible(page.text)
    assert (
        f"Gift card ending in {code[-4:]} Can be used until November 25, 2029 "
        "Left on the card €17.50 Original value €30.00"
    ) in visible(page.text)
    assert code not in page.text  # never shown back
    assert f'action="{browser.url("/wallet/gift-card")}#gift-card"' in page.text


def test_an_expired_and_a_disabled_card_say_so(browser: Browser, make_program: Any) -> None:
    api = wallet_program(browser, make_program)
    body = {"amount": "10.00", "currency": "EUR", "expires_at": "2026-06-08T00:00:00+03:00"}  # usable through 7 June
    issued = at_moment(
        api, "2026-06-01T10:00:00+00:00", "POST", "/api/v1/gift-cards", body, {"Idempotency-Key": "old-card"}
    )
    assert issued.status_code == 201, issued.text
    expired = issued.json()["code"]
    disabled = issue_card(api, "20.00")
    response = api.post(f"/api/v1/gift-cards/{disabled}/disable", {"reason": "Reported stolen"})
    assert response.status_code == 200, response.text

    assert (
        f"Gift card ending in {expired[-4:]} Expired: it could be used until June 7, 2026 Left on the card €0.00 "
        "Original value €10.00"
    ) in visible(check(browser, expired).text)
    assert (
        f"Gift card ending in {disabled[-4:]} Blocked by the shop: it can no longer be used Left on the card €20.00"
    ) in visible(check(browser, disabled).text)


def test_an_unknown_code_says_no_card_has_it_and_counts_towards_the_limit(browser: Browser, make_program: Any) -> None:
    api = wallet_program(browser, make_program)
    code = issue_card(api)
    unknown = "ABCD-EFGH-JKMN-PQRS"

    page = check(browser, unknown)
    assert page.status_code == 404
    text = visible(page.text)
    assert "Check a gift card" in text
    assert "No gift card has this code. Check the code and try again." in text
    assert "Gift card ending in" not in text
    empty = check(browser, "   ")
    assert empty.status_code == 400
    assert "Enter the code printed on the gift card." in visible(empty.text)

    for attempt in range(9):  # ten failed lookups from one address in 15 minutes: the limit
        assert check(browser, f"WRONG-{attempt}").status_code == 404
    limited = check(browser, code)  # even the right code is not looked up now
    assert (limited.status_code, limited.headers["retry-after"]) == (429, "900")
    assert "Too many codes that match no card were tried. Please wait 15 minutes and try again." in visible(
        limited.text
    )
    assert "Gift card ending in" not in visible(limited.text)

    browser.clock.set(NOW + timedelta(minutes=16))
    assert check(browser, code).status_code == 200  # the window has passed


def test_a_gift_card_check_needs_the_forms_token(browser: Browser, make_program: Any) -> None:
    api = wallet_program(browser, make_program)
    page = browser.post("/wallet/gift-card", {"code": issue_card(api), "csrf": "0" * 64})
    assert page.status_code == 403


def test_the_gift_cards_the_member_bought_are_listed_without_their_codes(browser: Browser, make_program: Any) -> None:
    api = wallet_program(browser, make_program)
    assert "Gift cards you bought" not in wallet_text(browser)
    api.purchase("anna", [line("GIFT-25", "gift-cards", "25.00", 2)], order_id="O-9")

    page = browser.get("/wallet")
    text = visible(page.text)
    cards = re.findall(r"Gift card ending in ([2-9A-Z]{4}) Can be used until November 25, 2029", text)
    assert len(cards) == 2
    assert "Gift cards you bought" in text
    assert text.count("Left on the card €25.00 Original value €25.00") == 2
    assert not re.search(r"[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}-[2-9A-Z]{4}", page.text)


# --- the page among the others -------------------------------------------------------------------------------------


def test_every_portal_has_the_wallet_in_its_navigation(browser: Browser, make_program: Any) -> None:
    browser.api = make_program({})
    anna = enrol_anna(browser.api)
    assert browser.sign_in(anna.email).status_code == 303
    home = browser.get()
    assert f'<li><a href="{browser.url("/wallet")}">Wallet</a></li>' in home.text
    page = browser.get("/wallet")
    assert f'<li><a href="{browser.url("/wallet")}" aria-current="page">Wallet</a></li>' in page.text


def test_signed_out_the_page_asks_to_sign_in(browser: Browser, make_program: Any) -> None:
    wallet_program(browser, make_program)
    browser.http.cookies.clear()
    for path in ("/wallet", "/wallet/convert?points=200"):
        page = browser.get(path)
        assert (page.status_code, page.headers["location"]) == (303, browser.url("/sign-in")), path


def full_wallet(browser: Browser, make_program: Any, engine: Engine) -> str:
    """Anna's wallet with every part shown: credit of each kind, pending cashback, a bought card; returns the code
    of another card to check."""
    api = wallet_program(browser, make_program, pending_days=14)
    given = api.post("/api/v1/members/anna/adjustments", {"points": 600, "reason": "Loyal customer"})
    assert given.status_code == 201, given.text
    grant(api, "5.00", "Late delivery")
    money_call(api, "/api/v1/members/anna/store-credit/redemptions", {"amount": "3.00", "order_id": "W-1"})
    money_call(api, "/api/v1/members/anna/store-credit/refunds", {"amount": "4.00", "order_id": "W-1"})
    money_call(api, "/api/v1/members/anna/conversions", {"points": 200})
    api.purchase("anna", [line("MUG", "mugs", "25.00")], order_id="O-3", occurred_at="2026-06-05T10:00:00+00:00")
    api.purchase("anna", [line("MUG", "mugs", "50.00")], order_id="O-4", occurred_at="2026-06-06T10:00:00+00:00")
    api.refund("anna", "O-4", refund_lines=[{"sku": "MUG", "quantity": 1}], occurred_at="2026-06-07T10:00:00+00:00")
    api.purchase(
        "anna", [line("GIFT-25", "gift-cards", "25.00")], order_id="O-5", occurred_at="2026-05-01T10:00:00+00:00"
    )
    run_jobs(api, engine, "2026-05-20T00:00:00+00:00")  # the gift card's return window has closed: it is issued
    return issue_card(api)


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_page_and_its_steps_speak_the_chosen_language(
    browser: Browser, make_program: Any, engine: Engine, language: str
) -> None:
    ui = Translator(language)
    code = full_wallet(browser, make_program, engine)
    browser.get(f"?lang={language}")
    csrf = browser.csrf("/wallet")
    pages = {
        "wallet": browser.get("/wallet"),
        "converted": browser.get("/wallet?converted=1"),
        "confirmation": browser.get("/wallet/convert?points=9"),  # refused: below the minimum
        "card": browser.post("/wallet/gift-card", {"code": code, "csrf": csrf}),
        "unknown card": browser.post("/wallet/gift-card", {"code": "ABCD-EFGH-JKMN-PQRS", "csrf": csrf}),
        "refused": browser.post("/wallet/convert", {"points": "abc", "key": KEY_OF_FORM, "csrf": csrf}),
    }
    assert [page.status_code for page in pages.values()] == [200, 200, 422, 200, 404, 400]
    for name, page in pages.items():
        assert f'<html lang="{language}">' in page.text, name
        text = visible(page.text)
        assert ui.t("nav.wallet") in text, name
        assert ui.t("wallet.credit.title") in text, name
        if language != "en":
            assert english_leftovers(text, browser) == [], (name, english_leftovers(text, browser))
            assert fallen_back(text, browser, language) == [], name
    wallet = visible(pages["wallet"].text)
    for message in (
        ui.t("wallet.history.adjust", reason="Late delivery"),
        ui.t("wallet.history.spend", order="W-1"),
        ui.t("wallet.history.refund", order="W-1"),
        ui.t("wallet.history.convert"),
        ui.t("wallet.history.earn_pending", order="O-3"),
        ui.t("wallet.history.reverse", order="O-4"),
        ui.t("wallet.credit.pending_help"),
        ui.t("wallet.bought.title"),
        ui.n("wallet.convert.minimum", 200),
    ):
        assert message in wallet, message
    assert ui.t("wallet.convert.done") in visible(pages["converted"].text)
    assert ui.t("wallet.card.value") in visible(pages["card"].text)
    assert ui.t("wallet.gift_card.not_found") in visible(pages["unknown card"].text)
    assert ui.t("wallet.convert.invalid") in visible(pages["refused"].text)
    question = browser.get("/wallet/convert?points=200")
    assert question.status_code == 200
    text = visible(question.text)
    question_text = ui.n("wallet.convert.question", 200, credit=ui.money(Decimal("2.00"), "EUR"))
    assert " ".join(question_text.split()) in text  # as read: the no-break space in "2,00 €" is a space
    if language != "en":
        assert english_leftovers(text, browser) == []
    assert CSRF.search(question.text) is not None


def test_the_page_weighs_under_100_kb_with_its_css_and_js(browser: Browser, make_program: Any, engine: Engine) -> None:
    full_wallet(browser, make_program, engine)
    for path in ("/wallet", "/wallet/convert?points=200"):
        page = browser.get(path)
        assert page.status_code == 200, path
        weight = len(page.content) + sum(len(browser.http.get(asset).content) for asset in ASSETS.findall(page.text))
        assert weight < LIMIT, (path, weight)
