"""The portal's causes page: each open cause with what everyone gave to it in words (the shop's matching and the donors
included), the progress to its goal and what the member gave; giving points through a confirmation step that says
what they are worth and what the shop adds, once per form however often it is sent, and refused with a message
(a closed or unknown cause, more points than the member has, no number) that changes nothing; the standing gift set,
changed and stopped; the page in every language, in the navigation of a program with causes only, and light enough."""

from __future__ import annotations

import re
import uuid
from decimal import Decimal
from typing import Any

import httpx
import pytest

from punchcard.i18n.catalogue import LANGUAGES
from punchcard.i18n.translator import Translator
from tests.factories import ApiClient, deliver_outbox, line
from tests.portal.conftest import CSRF, KEY, Browser, enrol_anna, visible
from tests.portal.test_i18n import english_leftovers
from tests.portal.test_page_weight import ASSETS, LIMIT


def texts(en: str, et: str, fi: str, sv: str, ru: str) -> dict[str, str]:
    return {"en": en, "et": et, "fi": fi, "sv": sv, "ru": ru}


BALTIC_SEA: dict[str, Any] = {
    "code": "baltic-sea",
    "name": texts(
        "Baltic Sea Foundation", "Läänemere Sihtasutus", "Itämeri-säätiö", "Östersjöstiftelsen", "Фонд Балтийского моря"
    ),
    "description": texts(
        "Cleaner water for the sea our coffee crosses.",
        "Puhtam vesi merele, mille meie kohv ületab.",
        "Puhtaampaa vettä merelle, jonka yli kahvimme kulkee.",
        "Renare vatten i havet som vårt kaffe korsar.",
        "Чистая вода для моря, через которое идёт наш кофе.",
    ),
    "image_url": "https://images.example.com/baltic-sea.jpg",
    "point_value": "0.01",
    "match": {"ratio": 1, "budget": "500.00", "per": "month"},
    "goal": "2000.00",
}
FORESTS: dict[str, Any] = {
    "code": "forests",
    "name": texts("Forest Fund", "Metsafond", "Metsärahasto", "Skogsfonden", "Лесной фонд"),
    "point_value": "0.02",
}
CLOSED: dict[str, Any] = {
    "code": "winter-appeal",
    "name": texts("Winter Appeal", "Talvekampaania", "Talvikeräys", "Vinterinsamlingen", "Зимний сбор"),
    "point_value": "0.01",
    "active": {"until": "2026-05-31"},  # over before the portal's day (10 June 2026)
}
KEY_OF_FORM = "form-key-0123456789abcdef"
"""A key as the confirmation page generates them (URL-safe, 16 to 64 characters)."""


def causes_program(browser: Browser, make_program: Any, causes: list[dict[str, Any]] | None = None) -> ApiClient:
    """Anna (209 points: see ``enrol_anna``), signed in, in a fresh demo program with ``causes`` (the Baltic Sea
    Foundation, the Forest Fund and a closed appeal unless told); returns its API client."""
    browser.api = make_program({"causes": [BALTIC_SEA, FORESTS, CLOSED] if causes is None else causes})
    anna = enrol_anna(browser.api)
    assert browser.sign_in(anna.email).status_code == 303
    return browser.api


def give_points(api: ApiClient, member: str, points: int) -> None:
    given = api.post(f"/api/v1/members/{member}/adjustments", {"points": points, "reason": "goodwill"})
    assert given.status_code == 201, given.text


def donate_by_api(api: ApiClient, member: str, points: int, cause: str = "baltic-sea") -> None:
    body = {"cause": cause, "points": points}
    answer = api.post(f"/api/v1/members/{member}/donations", body, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code == 201, answer.text


def given_by_anna(api: ApiClient) -> dict[str, Any]:
    response = api.get("/api/v1/members/anna/donations")
    assert response.status_code == 200, response.text
    return dict(response.json())


def page_text(browser: Browser, path: str = "/causes", status: int = 200) -> str:
    page = browser.get(path)
    assert page.status_code == status, visible(page.text)
    return visible(page.text)


def section(text: str, start: str, end: str) -> str:
    """The part of the page's text from ``start`` up to ``end``."""
    return text.split(start, 1)[1].split(end, 1)[0]


# --- the causes and their totals -----------------------------------------------------------------------------------


def test_each_open_cause_says_what_we_gave_together_with_the_shops_matching_and_the_donors(
    browser: Browser, make_program: Any
) -> None:
    api = causes_program(browser, make_program)
    for points in (1000, 500):
        donor = api.member()
        give_points(api, donor, points)
        donate_by_api(api, donor, points)  # €10.00 and €5.00, each matched one to one

    page = browser.get("/causes")
    text = visible(page.text)

    assert (
        "Points for a cause Give your points to a cause the shop supports: every point you give becomes money for "
        "it. You have 209 points to give. Baltic Sea Foundation Cleaner water for the sea our coffee crosses. "
        "Together we gave €30.00 to Baltic Sea Foundation. 2 members gave points, and the shop added €15.00. "
        "Goal: €2,000.00 €1,970.00 to go "
        "The shop adds 100% of every gift's value, up to €500.00 a month. "
        "You have not given to this cause yet. Points to give 100 points are worth €1.00 to the cause. Continue"
    ) in text
    assert (
        '<img class="cause-image" src="https://images.example.com/baltic-sea.jpg" alt="" loading="lazy">' in page.text
    )
    assert '<progress id="cause-baltic-sea-goal" max="200000" value="3000"></progress>' in page.text
    assert (
        "Forest Fund Nobody has given yet: be the first! You have not given to this cause yet. Points to give "
        "100 points are worth €2.00 to the cause. Continue"
    ) in text
    assert "Winter Appeal" not in text  # over: not listed
    assert f'action="{browser.url("/causes/baltic-sea/give")}"' in page.text


def test_a_cause_without_matching_counts_its_donors_and_a_reached_goal_says_so(
    browser: Browser, make_program: Any
) -> None:
    api = causes_program(browser, make_program, [{**FORESTS, "goal": "10.00"}])
    donor = api.member()
    give_points(api, donor, 600)
    donate_by_api(api, donor, 600, "forests")  # €12.00: past the goal

    page = browser.get("/causes")
    text = visible(page.text)
    assert "Together we gave €12.00 to Forest Fund. 1 member gave points. Goal: €10.00 The goal is reached." in text
    assert "the shop added" not in text
    assert '<progress id="cause-forests-goal" max="1000" value="1000"></progress>' in page.text


def test_a_program_whose_causes_are_all_closed_says_none_takes_gifts(browser: Browser, make_program: Any) -> None:
    causes_program(browser, make_program, [CLOSED])
    text = page_text(browser)
    assert "No cause takes gifts at the moment." in text
    assert "Give as you earn" not in text  # nothing to give to, and no standing gift to stop


# --- giving points -------------------------------------------------------------------------------------------------


def confirmation(browser: Browser, points: str, cause: str = "baltic-sea", status: int = 200) -> tuple[str, str]:
    """The confirmation step's text and the key its form carries."""
    page = browser.get(f"/causes/{cause}/give?points={points}")
    assert page.status_code == status, visible(page.text)
    key = KEY.search(page.text)
    return visible(page.text), key.group(1) if key else ""


def post_gift(browser: Browser, points: str, key: str, cause: str = "baltic-sea") -> httpx.Response:
    return browser.post(f"/causes/{cause}/give", {"points": points, "key": key, "csrf": browser.csrf("/causes")})


def test_a_gift_is_confirmed_first_then_made_once_however_often_the_form_is_sent(
    browser: Browser, make_program: Any
) -> None:
    api = causes_program(browser, make_program)
    text, key = confirmation(browser, "200")
    assert (
        "Give 200 points (€2.00) to Baltic Sea Foundation? Baltic Sea Foundation The shop will add up to €2.00 more. "
        "Afterwards you will have 9 points. Points given to a cause cannot be taken back. Yes, give Cancel"
    ) in text
    assert api.available("anna") == 209  # the step changes nothing

    first = post_gift(browser, "200", key)
    again = post_gift(browser, "200", key)

    assert (first.status_code, again.status_code) == (303, 303)
    assert first.headers["location"] == again.headers["location"] == browser.url("/causes?given=1")
    assert api.available("anna") == 9
    assert given_by_anna(api)["given"] == [{"cause": "baltic-sea", "points": 200, "value": "2.00"}]
    text = page_text(browser, "/causes?given=1")
    assert "Points for a cause Thank you! Your points have been given." in text
    assert "You have 9 points to give." in text
    assert (
        "Together we gave €4.00 to Baltic Sea Foundation. 1 member gave points, and the shop added €2.00. "
        "Goal: €2,000.00 €1,996.00 to go"
    ) in text
    assert "You gave 200 points (€2.00)." in section(text, "Baltic Sea Foundation", "Forest Fund")


def test_each_confirmation_carries_its_own_key(browser: Browser, make_program: Any) -> None:
    api = causes_program(browser, make_program)
    _, first = confirmation(browser, "100")
    _, second = confirmation(browser, "100")
    assert first != second
    assert post_gift(browser, "100", first).status_code == 303
    assert post_gift(browser, "100", second).status_code == 303
    assert api.available("anna") == 9
    assert given_by_anna(api)["given"] == [{"cause": "baltic-sea", "points": 200, "value": "2.00"}]


def test_the_confirmation_says_what_the_shop_adds_within_what_is_left_of_its_budget(
    browser: Browser, make_program: Any
) -> None:
    api = causes_program(browser, make_program, [{**BALTIC_SEA, "match": {"ratio": 1, "budget": "3.00"}}])
    give_points(api, "anna", 600)
    text, key = confirmation(browser, "200")
    assert "The shop will add up to €2.00 more." in text
    assert post_gift(browser, "200", key).status_code == 303

    text, key = confirmation(browser, "300")  # €3.00 asked, €1.00 of the month's budget left
    assert (
        "Give 300 points (€3.00) to Baltic Sea Foundation? Baltic Sea Foundation The shop will add up to €1.00" in text
    )
    assert post_gift(browser, "300", key).status_code == 303

    text, _ = confirmation(browser, "100")
    assert "Give 100 points (€1.00) to Baltic Sea Foundation? Baltic Sea Foundation Afterwards" in text
    assert "The shop will add" not in text
    assert "Together we gave €8.00 to Baltic Sea Foundation. 1 member gave points, and the shop added €3.00." in (
        page_text(browser)
    )


def test_a_cause_that_does_not_match_says_nothing_of_the_shop(browser: Browser, make_program: Any) -> None:
    causes_program(browser, make_program)
    text, _ = confirmation(browser, "50", "forests")
    assert "Give 50 points (€1.00) to Forest Fund? Forest Fund Afterwards you will have 159 points." in text
    assert "The shop will add" not in text


@pytest.mark.parametrize(
    ("cause", "points", "status", "message"),
    [
        ("winter-appeal", "100", 422, "This cause takes no gifts at the moment."),
        ("no-such-cause", "100", 404, "This cause is not on the list any more."),
        ("baltic-sea", "300", 422, "You have only 209 points to give."),
        ("baltic-sea", "abc", 400, "Enter a whole number of points, such as 100."),
        ("baltic-sea", "0", 400, "Enter a whole number of points, such as 100."),
    ],
)
def test_a_gift_that_cannot_be_made_says_why_on_the_page_and_changes_nothing(
    browser: Browser, make_program: Any, cause: str, points: str, status: int, message: str
) -> None:
    api = causes_program(browser, make_program)
    asked_first, _ = confirmation(browser, points, cause, status)
    sent_anyway = post_gift(browser, points, KEY_OF_FORM, cause)

    assert sent_anyway.status_code == status, visible(sent_anyway.text)
    for text in (asked_first, visible(sent_anyway.text)):
        assert message in text
        assert "Points for a cause" in text  # the causes page, not an error page
    assert api.available("anna") == 209
    assert given_by_anna(api)["given"] == []


def test_a_refusal_about_a_listed_cause_is_said_at_its_form(browser: Browser, make_program: Any) -> None:
    causes_program(browser, make_program)
    page = post_gift(browser, "300", KEY_OF_FORM)
    assert page.status_code == 422
    assert (
        '<p class="alert" role="alert" id="cause-baltic-sea-error">You have only 209 points to give.</p>' in page.text
    )
    assert 'value="300" aria-describedby="cause-baltic-sea-rate cause-baltic-sea-error" aria-invalid="true"' in (
        page.text
    )
    assert 'id="give-error"' not in page.text


def test_a_gift_needs_the_forms_token_and_key(browser: Browser, make_program: Any) -> None:
    api = causes_program(browser, make_program)
    _, key = confirmation(browser, "200")
    no_token = browser.post("/causes/baltic-sea/give", {"points": "200", "key": key, "csrf": "0" * 64})
    no_key = browser.post("/causes/baltic-sea/give", {"points": "200", "key": "", "csrf": browser.csrf("/causes")})
    assert (no_token.status_code, no_key.status_code) == (403, 403)
    assert "This form has expired" in visible(no_token.text)
    assert api.available("anna") == 209


def test_the_steps_asked_for_again_lead_to_the_causes_page(browser: Browser, make_program: Any) -> None:
    causes_program(browser, make_program)
    for path in ("/causes/baltic-sea/give", "/causes/standing-gift"):
        page = browser.get(path)
        assert (page.status_code, page.headers["location"]) == (303, browser.url("/causes")), path


# --- the standing gift ---------------------------------------------------------------------------------------------


def set_gift(browser: Browser, how: str, percent: str = "", cause: str = "baltic-sea") -> httpx.Response:
    form = {"cause": cause, "how": how, "percent": percent, "csrf": browser.csrf("/causes")}
    return browser.post("/causes/standing-gift", form)


def standing_text(browser: Browser, path: str = "/causes") -> str:
    return page_text(browser, path).split("Give as you earn", 1)[1]


def test_a_standing_gift_is_set_changed_and_stopped(browser: Browser, make_program: Any) -> None:
    api = causes_program(browser, make_program)
    assert standing_text(browser).startswith(
        " Give every time you earn points, without having to think of it. You can change or stop it at any time. "
        "You do not give automatically at the moment. Give to Baltic Sea Foundation Forest Fund How to give "
        "Give a share of every earning Per cent of every earning "
        "Round my balance down to a multiple of 100 points and give the rest "
        "Round my balance down to a multiple of 500 points and give the rest Save"
    )
    assert "Stop giving automatically" not in page_text(browser)

    answer = set_gift(browser, "percent", "10")
    assert (answer.status_code, answer.headers["location"]) == (303, browser.url("/causes?standing=set#standing"))
    assert given_by_anna(api)["standing_gift"] == {"cause": "baltic-sea", "kind": "percent", "value": 10}
    text = standing_text(browser, "/causes?standing=set")
    assert text.startswith(" Done: you now give as you earn.")
    assert "You give 10% of every earning to Baltic Sea Foundation." in text
    assert "give the rest Save Stop giving automatically" in text

    assert set_gift(browser, "round-500", cause="forests").status_code == 303
    assert given_by_anna(api)["standing_gift"] == {"cause": "forests", "kind": "round_down", "value": 500}
    page = browser.get("/causes")
    assert (
        "After every earning, your balance is rounded down to a multiple of 500 points and the rest goes to "
        "Forest Fund."
    ) in visible(page.text)
    assert 'value="round-500" checked>' in page.text
    assert '<option value="forests" selected>Forest Fund</option>' in page.text

    stopped = browser.post("/causes/standing-gift/stop", {"csrf": browser.csrf("/causes")})
    assert (stopped.status_code, stopped.headers["location"]) == (
        303,
        browser.url("/causes?standing=stopped#standing"),
    )
    assert given_by_anna(api)["standing_gift"] is None
    text = standing_text(browser, "/causes?standing=stopped")
    assert text.startswith(" Done: you no longer give automatically.")
    assert "You do not give automatically at the moment." in text


def test_a_standing_gift_gives_after_the_next_earning(browser: Browser, make_program: Any) -> None:
    api = causes_program(browser, make_program)
    assert set_gift(browser, "percent", "50").status_code == 303
    api.purchase("anna", [line("BEANS-3", "coffee-beans", "30.00")], order_id="O-3")  # 60 points
    deliver_outbox(browser.http)
    assert api.available("anna") == 209 + 60 - 30
    assert "You gave 30 points (€0.30)." in page_text(browser)


def test_a_standing_gift_of_another_multiple_is_offered_as_it_is(browser: Browser, make_program: Any) -> None:
    api = causes_program(browser, make_program)
    body = {"cause": "baltic-sea", "kind": "round_down", "value": 1000}
    assert api.request("PUT", "/api/v1/members/anna/standing-gift", body).status_code == 200
    page = browser.get("/causes")
    text = visible(page.text)
    assert "rounded down to a multiple of 1,000 points and the rest goes to Baltic Sea Foundation." in text
    assert "Round my balance down to a multiple of 1,000 points and give the rest" in text
    assert 'value="round-1000" checked>' in page.text


def test_with_one_cause_the_standing_gift_names_it_instead_of_a_choice(browser: Browser, make_program: Any) -> None:
    causes_program(browser, make_program, [BALTIC_SEA])
    page = browser.get("/causes")
    assert "How to give" in standing_text(browser)
    assert "Your gifts go to Baltic Sea Foundation. How to give" in visible(page.text)
    assert "<select" not in page.text
    assert '<input type="hidden" name="cause" value="baltic-sea">' in page.text


@pytest.mark.parametrize(
    ("how", "percent", "cause", "status", "message"),
    [
        ("percent", "0", "baltic-sea", 400, "Enter a whole percentage from 1 to 100."),
        ("percent", "101", "baltic-sea", 400, "Enter a whole percentage from 1 to 100."),
        ("percent", "ten", "baltic-sea", 400, "Enter a whole percentage from 1 to 100."),
        ("", "10", "baltic-sea", 400, "Choose how to give."),
        ("round-", "", "baltic-sea", 400, "Choose how to give."),
        ("percent", "10", "winter-appeal", 422, "This cause takes no gifts at the moment."),
        ("round-100", "", "no-such-cause", 404, "This cause is not on the list any more."),
    ],
)
def test_a_standing_gift_that_cannot_be_set_says_why_and_changes_nothing(
    browser: Browser, make_program: Any, how: str, percent: str, cause: str, status: int, message: str
) -> None:
    api = causes_program(browser, make_program)
    page = set_gift(browser, how, percent, cause)
    assert page.status_code == status, visible(page.text)
    assert f'<p class="alert" role="alert" id="standing-error">{message}</p>' in page.text
    assert "Points for a cause" in visible(page.text)
    assert given_by_anna(api)["standing_gift"] is None


def test_setting_or_stopping_the_standing_gift_needs_the_forms_token(browser: Browser, make_program: Any) -> None:
    api = causes_program(browser, make_program)
    refused = browser.post("/causes/standing-gift", {"cause": "baltic-sea", "how": "round-100", "csrf": "0" * 64})
    assert refused.status_code == 403
    assert set_gift(browser, "round-100").status_code == 303
    assert browser.post("/causes/standing-gift/stop", {"csrf": "0" * 64}).status_code == 403
    assert given_by_anna(api)["standing_gift"] == {"cause": "baltic-sea", "kind": "round_down", "value": 100}


# --- the page among the others -------------------------------------------------------------------------------------

TABS = re.compile(r'<li><a href="[^"]+"[^>]*>([^<]+)</a></li>')


def test_only_a_program_with_causes_has_the_page_and_its_tab(browser: Browser, make_program: Any) -> None:
    causes_program(browser, make_program, [CLOSED])  # causes, though none open now
    page = browser.get("/causes")
    assert TABS.findall(page.text) == [
        "Home",
        "History",
        "Rewards",
        "My coupons",
        "Causes",
        "Wallet",
        "Card",
        "Profile",
    ]
    assert f'<li><a href="{browser.url("/causes")}" aria-current="page">Causes</a></li>' in page.text

    causes_program(browser, make_program, [])
    home = browser.get()
    assert TABS.findall(home.text) == ["Home", "History", "Rewards", "My coupons", "Wallet", "Card", "Profile"]
    for path in ("/causes", "/causes/baltic-sea/give?points=100"):
        page = browser.get(path)
        assert (page.status_code, "Page not found" in page.text) == (404, True), path
    refused = browser.post("/causes/standing-gift", {"how": "round-100", "csrf": browser.csrf("/profile")})
    assert refused.status_code == 404


def test_signed_out_the_page_asks_to_sign_in(browser: Browser, make_program: Any) -> None:
    causes_program(browser, make_program)
    browser.http.cookies.clear()
    for path in ("/causes", "/causes/baltic-sea/give?points=100"):
        page = browser.get(path)
        assert (page.status_code, page.headers["location"]) == (303, browser.url("/sign-in")), path


def everything_shown(browser: Browser, make_program: Any) -> ApiClient:
    """Anna's causes page with every part shown: totals with matching and a goal, her own gift, a standing gift."""
    api = causes_program(browser, make_program)
    donor = api.member()
    give_points(api, donor, 1000)
    donate_by_api(api, donor, 1000)
    donate_by_api(api, "anna", 9, "forests")
    assert api.request("PUT", "/api/v1/members/anna/standing-gift", {**BALTIC_SEA_GIFT}).status_code == 200
    return api


BALTIC_SEA_GIFT = {"cause": "baltic-sea", "kind": "percent", "value": 10}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_page_and_its_steps_speak_the_chosen_language(browser: Browser, make_program: Any, language: str) -> None:
    ui = Translator(language)
    everything_shown(browser, make_program)
    browser.get(f"?lang={language}")
    csrf = browser.csrf("/causes")
    pages = {
        "causes": browser.get("/causes"),
        "given": browser.get("/causes?given=1&standing=set"),
        "confirmation": browser.get("/causes/baltic-sea/give?points=100"),
        "too many": browser.get("/causes/baltic-sea/give?points=5000"),
        "closed": browser.get("/causes/winter-appeal/give?points=100"),
        "refused": browser.post("/causes/baltic-sea/give", {"points": "abc", "key": KEY_OF_FORM, "csrf": csrf}),
        "gift refused": browser.post("/causes/standing-gift", {"cause": "baltic-sea", "how": "", "csrf": csrf}),
    }
    assert [page.status_code for page in pages.values()] == [200, 200, 200, 422, 422, 400, 400]
    name = BALTIC_SEA["name"][language]
    euro = ui.money
    for key, page in pages.items():
        assert f'<html lang="{language}">' in page.text, key
        text = visible(page.text)
        assert ui.t("causes.nav") in text, key
        assert " ".join(name.split()) in text, key
        if language != "en":
            assert english_leftovers(text, browser) == [], (key, english_leftovers(text, browser))
            assert "Baltic Sea Foundation" not in text, key
    said = " ".join(visible(pages["causes"].text).split())
    for message in (
        ui.t("causes.title"),
        ui.t("causes.intro"),
        ui.t("causes.have", points=ui.n("points", 200)),
        ui.t("causes.together", amount=euro(Decimal("20.00"), "EUR"), cause=name),
        ui.n("causes.donors_matched", 1, matched=euro(Decimal("10.00"), "EUR")),
        ui.t("causes.goal", amount=euro(Decimal("2000.00"), "EUR")),
        ui.t("causes.goal.left", amount=euro(Decimal("1980.00"), "EUR")),
        ui.t("causes.match.month", share=ui.percent(Decimal(100)), budget=euro(Decimal("500.00"), "EUR")),
        ui.t("causes.mine.none"),
        ui.n("causes.mine", 9, amount=euro(Decimal("0.18"), "EUR")),
        ui.t("causes.together", amount=euro(Decimal("0.18"), "EUR"), cause=FORESTS["name"][language]),
        ui.n("causes.donors", 1),
        ui.n("causes.give.rate", 100, amount=euro(Decimal("1.00"), "EUR")),
        ui.t("causes.standing.percent", percent=ui.percent(Decimal(10)), cause=name),
        ui.n("causes.standing.option.round", 500),
    ):
        assert " ".join(message.split()) in said, message
    assert ui.t("causes.given") in visible(pages["given"].text)
    assert ui.t("causes.standing.saved") in visible(pages["given"].text)
    question = ui.n("causes.confirm.question", 100, value=euro(Decimal("1.00"), "EUR"), cause=name)
    confirmation_text = visible(pages["confirmation"].text)
    assert " ".join(question.split()) in confirmation_text
    assert " ".join(ui.t("causes.confirm.matched", amount=euro(Decimal("1.00"), "EUR")).split()) in confirmation_text
    assert CSRF.search(pages["confirmation"].text) is not None
    assert ui.n("causes.refused.insufficient", 200) in visible(pages["too many"].text)
    assert ui.t("causes.refused.closed") in visible(pages["closed"].text)
    assert ui.t("causes.refused.invalid") in visible(pages["refused"].text)
    assert ui.t("causes.standing.choose") in visible(pages["gift refused"].text)


def test_the_page_weighs_under_100_kb_with_its_css_and_js(browser: Browser, make_program: Any) -> None:
    everything_shown(browser, make_program)
    for path in ("/causes", "/causes/baltic-sea/give?points=100"):
        page = browser.get(path)
        assert page.status_code == 200, path
        weight = len(page.content) + sum(len(browser.http.get(asset).content) for asset in ASSETS.findall(page.text))
        assert weight < LIMIT, (path, weight)
