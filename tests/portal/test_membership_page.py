"""The portal's membership page and the home page's summary: each status in words with its date in the program's time
zone (time's changes shown before the jobs run), the price, what was paid and each perk, the plans on sale for a
member without a current membership, in several languages; and nothing of it in a program without plans."""

from __future__ import annotations

import html
import re
from datetime import datetime
from typing import Any

import pytest

from punchcard.i18n.catalogue import LANGUAGES
from punchcard.i18n.translator import Translator
from tests.factories import ApiClient, at_moment
from tests.membership.test_memberships_api import membership_event, start
from tests.portal.conftest import Browser, enrol_anna, visible
from tests.portal.test_i18n import english_leftovers


def texts(en: str, et: str, fi: str, sv: str, ru: str) -> dict[str, str]:
    return {"en": en, "et": et, "fi": fi, "sv": sv, "ru": ru}


BEAN_CLUB: dict[str, Any] = {
    "code": "bean-club",
    "name": texts("Bean Club", "Oaklubi", "Papukerho", "Bönklubben", "Кофейный клуб"),
    "description": texts(
        "Double points and free shipping",
        "Topeltpunktid ja tasuta tarne",
        "Tuplapisteet ja ilmainen toimitus",
        "Dubbla poäng och fri frakt",
        "Двойные баллы и бесплатная доставка",
    ),
    "prices": {"month": "4.99", "year": "49.00"},
    "trial_days": 14,
    "grace_days": 7,
    "perks": {
        "earn_multiplier": 2,
        "free_shipping": True,
        "percent_off": {"percent": 10, "categories": ["coffee-beans"]},
        "early_access_hours": 48,
        "monthly_reward": "free-drink",
        "custom": ["tasting-evenings"],
    },
}
TEA_CLUB: dict[str, Any] = {
    "code": "tea-club",
    "name": texts("Tea Club", "Teeklubi", "Teekerho", "Teklubben", "Чайный клуб"),
    "prices": {"year": "19.00"},
    "trial_days": 7,
    "perks": {"percent_off": {"percent": "12.5", "categories": ["tea", "teaware"]}},
}
OLD_CLUB: dict[str, Any] = {
    "code": "old-club",
    "name": texts("Old Club", "Vana klubi", "Vanha kerho", "Gamla klubben", "Старый клуб"),
    "prices": {"month": "1.00"},
    "perks": {"free_shipping": True},
    "enabled": False,
}
PLANS = [BEAN_CLUB, TEA_CLUB, OLD_CLUB]
STARTED = "2026-06-05T10:00:00+00:00"
"""Five days before the portal's ``NOW``; the trial ends on 19 June at 10:00 UTC (13:00 in Tallinn)."""
TRIAL_ENDS = "2026-06-19T10:00:00+00:00"
BEAN_CLUB_PERKS = (
    "Your perks ×2 points on purchases Free shipping 10% off coffee-beans Offers open 48 hours early for you "
    "A coupon for A free drink every month tasting-evenings"
)


def club_member(browser: Browser, make_program: object, plans: list[dict[str, Any]] | None = None) -> ApiClient:
    """Anna, signed in, in a fresh demo program that sells ``plans``; returns the program's API client."""
    browser.api = make_program({"membership_plans": PLANS if plans is None else plans})  # type: ignore[operator]
    anna = enrol_anna(browser.api)
    assert browser.sign_in(anna.email).status_code == 303
    return browser.api


def page_at(browser: Browser, moment: str | None = None, path: str = "/membership") -> str:
    """The page's text while the portal's clock reads ``moment`` (as it is, without one)."""
    if moment is not None:
        browser.clock.set(datetime.fromisoformat(moment))
    page = browser.get(path)
    assert page.status_code == 200, visible(page.text)
    return visible(page.text)


def status_at(browser: Browser, moment: str) -> str:
    """The membership's status in words while the portal's clock reads ``moment``."""
    browser.clock.set(datetime.fromisoformat(moment))
    found = re.search(r'id="membership-status"><strong>([^<]*)</strong>', browser.get("/membership").text)
    assert found is not None
    return html.unescape(found.group(1))


# --- a member's membership --------------------------------------------------------------------------------------


def test_a_member_in_the_trial_sees_the_plan_its_end_price_and_every_perk_in_words(
    browser: Browser, make_program: object
) -> None:
    api = club_member(browser, make_program)
    start(api, "anna", started_at=STARTED)
    text = page_at(browser)
    assert (
        "Membership Bean Club Free trial until June 19, 2026 Double points and free shipping "
        "Price €4.99 a month Paid for this period Nothing: the trial is free " + BEAN_CLUB_PERKS
    ) in text
    assert "Become a member" not in text
    assert "Join again" not in text
    shown = at_moment(api, "2026-06-10T09:00:00+00:00", "GET", "/api/v1/members/anna/membership").json()
    assert (shown["status"], shown["current_period_end"]) == ("trialing", TRIAL_ENDS)


def test_each_status_in_words_as_payments_and_time_move_the_membership(browser: Browser, make_program: object) -> None:
    # Given Anna's trial, whose payment at its end failed
    api = club_member(browser, make_program)
    start(api, "anna", started_at=STARTED)
    membership_event(api, "anna", "membership_payment_failed", TRIAL_ENDS)
    # Then the grace keeps her perks, and says until when
    text = page_at(browser, "2026-06-20T09:00:00+00:00")
    assert (
        "Bean Club Payment failed: you keep your perks until June 26, 2026. Please update your payment details at the "
        "shop. Double points and free shipping Price €4.99 a month Paid for this period €0.00 " + BEAN_CLUB_PERKS
    ) in text
    # When the grace has run out, with no job run since, it shows as over, and the plans to join again
    text = page_at(browser, "2026-06-26T10:00:00+00:00")
    assert "Bean Club Ended on June 26, 2026: the payment did not come through Double points and free shipping" in text
    assert "Price" not in text
    assert "Your perks" not in text
    assert "Join again You join at the shop's checkout" in text
    assert "Bean Club €4.99 a month or €49.00 a year Double points and free shipping What it gives you" in text
    assert "The first 14 days are free" not in text  # she has had the Bean Club's trial
    assert "Tea Club €19.00 a year The first 7 days are free What it gives you 12.5% off tea and teaware" in text
    assert api.get("/api/v1/members/anna/membership").json()["status"] == "lapsed"


def test_a_renewal_shows_the_next_renewal_and_what_was_paid(browser: Browser, make_program: object) -> None:
    api = club_member(browser, make_program)
    start(api, "anna", started_at=STARTED)
    membership_event(
        api, "anna", "membership_renewed", TRIAL_ENDS, amount="4.99", currency="EUR", attributes={"payment_ref": "in-2"}
    )
    text = page_at(browser, "2026-06-25T09:00:00+00:00")
    assert "Bean Club Active, renews on July 19, 2026" in text
    assert "Price €4.99 a month Paid for this period €4.99 Your perks ×2 points on purchases" in text


def test_a_cancellation_keeps_the_perks_to_the_periods_end_then_ends_it(browser: Browser, make_program: object) -> None:
    api = club_member(browser, make_program)
    start(api, "anna", started_at=STARTED)
    membership_event(api, "anna", "membership_cancelled", "2026-06-12T10:00:00+00:00")
    assert status_at(browser, "2026-06-15T09:00:00+00:00") == "Cancelled: your perks last until June 19, 2026"
    assert "Your perks ×2 points on purchases" in page_at(browser)
    assert status_at(browser, TRIAL_ENDS) == "Ended on June 19, 2026: it was cancelled"


def test_a_cancellation_at_once_ends_it_that_day(browser: Browser, make_program: object) -> None:
    api = club_member(browser, make_program)
    start(api, "anna", started_at=STARTED)
    at = "2026-06-08T21:30:00+00:00"  # 9 June, 00:30 in Tallinn
    membership_event(api, "anna", "membership_cancelled", at, attributes={"at_period_end": False})
    assert status_at(browser, "2026-06-10T09:00:00+00:00") == "Ended on June 9, 2026: it was cancelled"


def test_dates_are_the_days_in_the_programs_time_zone(browser: Browser, make_program: object) -> None:
    api = club_member(browser, make_program)
    start(api, "anna", started_at="2026-06-05T22:30:00+00:00")  # the trial ends on 19 June at 22:30 UTC
    assert status_at(browser, "2026-06-10T09:00:00+00:00") == "Free trial until June 20, 2026"  # 01:30 in Tallinn


# --- without a membership ------------------------------------------------------------------------------------------


def test_a_member_without_a_membership_sees_the_plans_on_sale_and_where_to_join(
    browser: Browser, make_program: object
) -> None:
    club_member(browser, make_program)
    text = page_at(browser)
    assert (
        "Membership Become a member You join at the shop's checkout: choose a plan there when you place an order. "
        "You pay the shop, never on this page. "
        "Bean Club €4.99 a month or €49.00 a year The first 14 days are free Double points and free shipping "
        "What it gives you ×2 points on purchases Free shipping 10% off coffee-beans Offers open 48 hours early for "
        "you A coupon for A free drink every month tasting-evenings "
        "Tea Club €19.00 a year The first 7 days are free What it gives you 12.5% off tea and teaware"
    ) in text
    assert "Old Club" not in text  # withdrawn
    assert "Your perks" not in text
    home = page_at(browser, path="")
    assert "Membership You have no paid membership yet. See the plans" in home


def test_with_every_plan_withdrawn_the_page_says_none_is_on_sale(browser: Browser, make_program: object) -> None:
    club_member(browser, make_program, [OLD_CLUB])
    text = page_at(browser)
    assert "Become a member No plans are on sale at the moment." in text
    assert "checkout" not in text


# --- the home page and the navigation ------------------------------------------------------------------------------


def test_the_home_page_sums_the_membership_up_and_links_to_it(browser: Browser, make_program: object) -> None:
    api = club_member(browser, make_program)
    start(api, "anna", started_at=STARTED)
    page = browser.get()
    text = visible(page.text)
    assert "Membership Bean Club Free trial until June 19, 2026 See your membership" in text
    assert f'<a href="{browser.url("/membership")}">See your membership</a>' in page.text
    tabs = re.findall(r'<li><a href="[^"]+"[^>]*>([^<]+)</a></li>', page.text)
    assert tabs == [
        "Home",
        "History",
        "Rewards",
        "My coupons",
        "Membership",
        "Causes",
        "Wallet",
        "Card",
        "Profile",
    ]
    ended = page_at(browser, "2026-06-27T09:00:00+00:00", "")
    assert "Membership Bean Club Ended on June 26, 2026: the payment did not come through See the plans" in ended


def test_a_program_without_plans_has_no_membership_page_tab_or_summary(browser: Browser, make_program: object) -> None:
    club_member(browser, make_program, [])
    home = browser.get()
    tabs = re.findall(r'<li><a href="[^"]+"[^>]*>([^<]+)</a></li>', home.text)
    assert tabs == ["Home", "History", "Rewards", "My coupons", "Causes", "Wallet", "Card", "Profile"]
    assert "Membership" not in visible(home.text)
    page = browser.get("/membership")
    assert (page.status_code, "Page not found" in page.text) == (404, True)


def test_signed_out_the_page_asks_to_sign_in(browser: Browser, make_program: object) -> None:
    club_member(browser, make_program)
    browser.http.cookies.clear()
    page = browser.get("/membership")
    assert (page.status_code, page.headers["location"]) == (303, browser.url("/sign-in"))


# --- other languages -------------------------------------------------------------------------------------------------

IN_TRIAL = {
    "et": (
        "Liikmesus Oaklubi Tasuta prooviaeg kuni 19. juuni 2026 Topeltpunktid ja tasuta tarne Hind 4,99 € kuus "
        "Selle perioodi eest makstud Mitte midagi: prooviaeg on tasuta Sinu soodustused Ostudelt ×2 punkte "
        "Tasuta tarne 10% soodsamalt: coffee-beans Pakkumised avanevad sulle 48 tundi varem "
        "Igal kuul kupong „Tasuta jook” tasting-evenings"
    ),
    "fi": (
        "Jäsenyys Papukerho Maksuton kokeilu 19. kesäkuuta 2026 asti Tuplapisteet ja ilmainen toimitus "
        "Hinta 4,99 € kuukaudessa Maksettu tältä jaksolta Ei mitään: kokeilu on maksuton Etusi ×2 pisteet ostoksista "
        "Ilmainen toimitus 10 % alennus: coffee-beans Tarjoukset avautuvat sinulle 48 tuntia aikaisemmin "
        "Kuponki joka kuukausi: Ilmainen juoma tasting-evenings"
    ),
    "sv": (
        "Medlemskap Bönklubben Gratis provperiod till 19 juni 2026 Dubbla poäng och fri frakt Pris 4,99 € i månaden "
        "Betalt för den här perioden Ingenting: provperioden är gratis Dina förmåner ×2 poäng på köp Fri frakt "
        "10 % rabatt på coffee-beans Erbjudanden öppnar 48 timmar tidigare för dig "
        "En kupong för En gratis dryck varje månad tasting-evenings"
    ),
    "ru": (
        "Подписка Кофейный клуб Бесплатный пробный период до 19 июня 2026 г. Двойные баллы и бесплатная доставка "
        "Цена 4,99 € в месяц Оплачено за текущий период Ничего: пробный период бесплатный Ваши привилегии "
        "Баллы за покупки ×2 Бесплатная доставка Скидка 10 % на coffee-beans "
        "Предложения открываются для вас на 48 часов раньше Каждый месяц купон на «Бесплатный напиток» "
        "tasting-evenings"
    ),
}
PAST_DUE = {
    "et": "Makse ebaõnnestus: soodustused jäävad sulle kuni 26. juuni 2026. Palun uuenda poes oma makseandmeid.",
    "fi": "Maksu epäonnistui: etusi ovat voimassa 26. kesäkuuta 2026 asti. Päivitä maksutietosi kaupassa.",
    "sv": (
        "Betalningen gick inte igenom: du behåller dina förmåner till 26 juni 2026. "
        "Uppdatera dina betalningsuppgifter i butiken."
    ),
    "ru": "Оплата не прошла: обновите платёжные данные в магазине. До 26 июня 2026 г. привилегии сохраняются.",
}
ENDED = {
    "et": "Oaklubi Lõppes 26. juuni 2026: makset ei laekunud",
    "fi": "Papukerho Päättyi 26. kesäkuuta 2026: maksua ei saatu",
    "sv": "Bönklubben Upphörde den 26 juni 2026: betalningen kom aldrig in",
    "ru": "Кофейный клуб Закончилась 26 июня 2026 г.: оплата не поступила",
}


@pytest.mark.parametrize("language", ["et", "fi", "sv", "ru"])
def test_the_statuses_and_perks_read_in_the_members_language(
    browser: Browser, make_program: object, language: str
) -> None:
    api = club_member(browser, make_program)
    start(api, "anna", started_at=STARTED)
    browser.get(f"?lang={language}")
    assert IN_TRIAL[language] in page_at(browser)
    membership_event(api, "anna", "membership_payment_failed", TRIAL_ENDS)
    assert PAST_DUE[language] in page_at(browser, "2026-06-20T09:00:00+00:00")
    assert ENDED[language] in page_at(browser, "2026-06-26T10:00:00+00:00")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_page_and_the_summary_speak_the_chosen_language(
    browser: Browser, make_program: object, language: str
) -> None:
    ui = Translator(language)
    api = club_member(browser, make_program)
    browser.get(f"?lang={language}")
    pages = [page_at(browser), page_at(browser, path="")]  # no membership: the plans on sale
    start(api, "anna", started_at=STARTED)
    pages += [page_at(browser), page_at(browser, path="")]  # in the trial
    for text in pages:
        assert ui.t("membership.nav") in text
        if language != "en":
            assert english_leftovers(text, browser) == []
    assert ui.t("membership.plans.checkout") in pages[0]
    assert ui.t("membership.home.more") in pages[3]


def test_a_reward_offered_to_a_plans_members_says_so_to_others_and_opens_to_members(
    browser: Browser, make_program: object
) -> None:
    offer = {"code": "club-drink", "name": "Club drink", "reward": "free-drink", "audience": {"plans": ["bean-club"]}}
    browser.api = make_program({"membership_plans": PLANS, "offers": [offer]})  # type: ignore[operator]
    anna = enrol_anna(browser.api)
    assert browser.sign_in(anna.email).status_code == 303
    assert "For members of Bean Club." in page_at(browser, path="/rewards")
    start(browser.api, "anna", started_at=STARTED)
    assert "For members of Bean Club." not in page_at(browser, path="/rewards")
