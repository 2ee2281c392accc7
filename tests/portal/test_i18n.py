"""Five complete languages: every message in every catalogue, real plural forms from Babel's CLDR rules, numbers,
money and dates in each language's conventions, and every page rendered in each language without English leftovers."""

from __future__ import annotations

import re
import string
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from punchcard.i18n.catalogue import LANGUAGES, accepted, messages, plural_categories, supported
from punchcard.i18n.translator import Translator
from tests.factories import deliver_outbox
from tests.portal.conftest import Anna, Browser, subject_of, visible

SRC = Path(__file__).resolve().parents[2] / "src" / "punchcard"
SAME_AS_ENGLISH: frozenset[tuple[str, str]] = frozenset()
"""(language, key) of messages that are rightly the same as in English (a word such as "OK"); none so far."""
BUILT_KEYS = ("tier.so_far.", "tier.next.", "tier.keep.", "coupon.status.")
"""Message families whose keys templates build from a prefix and a value (the tier metric, the coupon status)."""
PAGES = ("", "/history", "/rewards", "/rewards/free-drink", "/coupons", "/card", "/profile")


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def forms(message: str | dict[str, str]) -> list[str]:
    return [message] if isinstance(message, str) else list(message.values())


# --- the catalogues --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_every_message_and_no_other(language: str) -> None:
    assert set(messages(language)) == set(messages("en"))


@pytest.mark.parametrize("language", LANGUAGES)
def test_plural_messages_have_exactly_the_languages_plural_forms(language: str) -> None:
    for key, english in messages("en").items():
        message = messages(language)[key]
        if isinstance(english, str):
            assert isinstance(message, str), key
        else:
            assert isinstance(message, dict), key
            assert set(message) == plural_categories(language), key


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_form_fills_the_same_placeholders_as_english(language: str) -> None:
    for key, english in messages("en").items():
        expected = placeholders(forms(english)[-1])
        for form in forms(messages(language)[key]):
            assert placeholders(form) == expected, (key, form)


@pytest.mark.parametrize("language", [language for language in LANGUAGES if language != "en"])
def test_no_message_is_left_in_english(language: str) -> None:
    untranslated = [
        key
        for key, english in messages("en").items()
        if set(forms(messages(language)[key])) & set(forms(english)) and (language, key) not in SAME_AS_ENGLISH
    ]
    assert untranslated == []


def test_every_message_is_used_and_every_message_used_exists() -> None:
    sources = [
        path.read_text(encoding="utf-8")
        for folder in (SRC / "portal", SRC / "mail", SRC / "mailing", SRC / "survey")
        for path in folder.rglob("*")
        if path.suffix in (".py", ".html", ".txt")
    ]
    called = {key for text in sources for key in re.findall(r"\b[tn]\(\s*[\"']([a-z_.]*[a-z_])[\"']", text)}
    quoted = {key for text in sources for key in re.findall(r"[\"']([a-z][a-z_]*(?:\.[a-z_]+)+)[\"']", text)}
    catalogue = set(messages("en"))
    assert called - catalogue == set()
    unused = {key for key in catalogue - quoted - called if not key.startswith(BUILT_KEYS)}
    assert unused == set()


# --- plurals and formats --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "counts"),
    [
        ("ru", {1: "1 балл", 3: "3 балла", 5: "5 баллов", 11: "11 баллов", 21: "21 балл", 22: "22 балла"}),
        ("en", {1: "1 point", 2: "2 points", 0: "0 points"}),
        ("et", {1: "1 punkt", 2: "2 punkti"}),
        ("fi", {1: "1 piste", 2: "2 pistettä"}),
        ("sv", {1: "1 poäng", 2: "2 poäng"}),
    ],
)
def test_points_take_the_plural_form_the_number_needs(language: str, counts: dict[int, str]) -> None:
    ui = Translator(language)
    assert {count: ui.n("points", count) for count in counts} == counts


def test_russian_phrases_agree_with_the_number() -> None:
    ui = Translator("ru")
    assert ui.n("rewards.locked.points", 1) == "Не хватает 1 балла."
    assert ui.n("rewards.locked.points", 41) == "Не хватает 41 балла."
    assert ui.n("rewards.locked.points", 3) == "Не хватает 3 баллов."
    assert ui.n("history.expire", 5) == "5 баллов сгорело"


@pytest.mark.parametrize(
    ("language", "money", "number", "day"),
    [
        ("en", "€1,234.50", "1,234", "March 5, 2026"),
        ("et", "1\xa0234,50\xa0€", "1\xa0234", "5. märts 2026"),
        ("fi", "1\xa0234,50\xa0€", "1\xa0234", "5. maaliskuuta 2026"),
        ("sv", "1\xa0234,50\xa0€", "1\xa0234", "5 mars 2026"),
        ("ru", "1\xa0234,50\xa0€", "1\xa0234", "5 марта 2026\u202fг."),
    ],
)
def test_money_numbers_and_dates_follow_the_language(language: str, money: str, number: str, day: str) -> None:
    ui = Translator(language)
    assert ui.money(Decimal("1234.50"), "EUR") == money
    assert ui.number(1234) == number
    assert ui.n("points", 1234).startswith(number)
    assert ui.date(date(2026, 3, 5)) == day


def test_language_tags_map_to_catalogues() -> None:
    assert [supported(tag) for tag in ("et", "sv-FI", "RU", "en_GB", "de", "", None)] == [
        "et",
        "sv",
        "ru",
        "en",
        None,
        None,
        None,
    ]
    assert accepted("de-DE,de;q=0.9,fi;q=0.8,en;q=0.5,ru;q=0") == ["fi", "en"]


# --- pages in every language ------------------------------------------------------------------------------------------


def program_texts(browser: Browser) -> list[dict[str, str]]:
    """Every text members read in the program's file, each as a map by language (a plain string is English)."""
    program = browser.api.get("/api/v1/program").json()["definition"]
    written = [program["name"], *(level["name"] for level in program["tiers"]["levels"])]
    written += [rule["name"] for rule in program["earning_rules"]]
    for reward in program["rewards"]:
        written += [reward["name"], reward["description"], (reward["benefit"]["free_product"] or {}).get("name")]
    return [text if isinstance(text, dict) else {"en": text} for text in written if text]


def english_leftovers(text: str, browser: Browser) -> list[str]:
    """English UI messages (without placeholders) found in ``text``; program texts are checked on their own
    (``fallen_back``), as the shop may write some of them the same in every language."""
    shop_words = {written for texts in program_texts(browser) for written in texts.values()}
    english = [form for message in messages("en").values() for form in forms(message) if "{" not in form]
    return [form for form in english if form in text and form not in shop_words]


def fallen_back(text: str, browser: Browser, language: str) -> list[str]:
    """Program texts shown in English in ``text`` although the program has them in ``language``."""
    translated = [texts for texts in program_texts(browser) if texts.get(language, texts["en"]) != texts["en"]]
    return [texts["en"] for texts in translated if texts["en"] in text]


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_page_speaks_the_chosen_language(browser: Browser, anna: Anna, language: str) -> None:
    ui = Translator(language)
    browser.get(f"?lang={language}")  # the switch; a cookie remembers it
    for path in PAGES:
        page = browser.get(path)
        assert page.status_code == 200, path
        assert f'<html lang="{language}">' in page.text, path
        text = visible(page.text)
        assert ui.t("nav.history") in text, path
        assert ui.t("layout.sign_out") in text, path
        if language != "en":
            assert english_leftovers(text, browser) == [], path
            assert fallen_back(text, browser, language) == [], path


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_sign_in_pages_and_mail_speak_the_chosen_language(browser: Browser, language: str) -> None:
    ui = Translator(language)
    browser.api.member("mail", email=f"mail-{language}@example.com", name="Mari", language=language)
    page = browser.get(f"/sign-in?lang={language}")
    assert f'<html lang="{language}">' in page.text
    assert ui.t("sign_in.submit") in visible(page.text)
    sent = browser.ask_for_link(f"mail-{language}@example.com")
    assert ui.t("sign_in.sent.validity") in visible(sent.text)
    if language != "en":
        assert english_leftovers(visible(page.text) + visible(sent.text), browser) == []
        assert fallen_back(visible(page.text) + visible(sent.text), browser, language) == []
    deliver_outbox(browser.http)
    mail = browser.smtp.wait_for(f"mail-{language}@example.com")
    name = browser.api.get("/api/v1/program").json()["definition"]["name"][language]
    assert subject_of(mail) == ui.t("mail.sign_in.subject", program=name)


def test_without_a_choice_the_browsers_language_is_used_then_the_members(browser: Browser, anna: Anna) -> None:
    browser.http.cookies.delete("punchcard_lang")
    assert '<html lang="fi">' in browser.get(headers={"Accept-Language": "fi-FI,fi;q=0.9"}).text
    assert '<html lang="en">' in browser.get(headers={"Accept-Language": "de"}).text
    assert browser.api.patch("/api/v1/members/anna", {"language": "sv"}).status_code == 200
    assert '<html lang="sv">' in browser.get(headers={"Accept-Language": "fi"}).text  # the member's own wins
    assert '<html lang="ru">' in browser.get("?lang=ru").text  # and the switch wins over both
    assert '<html lang="ru">' in browser.get().text


def test_a_program_offers_only_its_own_languages(browser: Browser, make_program: object) -> None:
    two = make_program({"languages": ["et", "en"]})  # type: ignore[operator]
    browser.api = two
    page = browser.get("/sign-in?lang=ru")
    assert '<html lang="et">' in page.text  # Russian is not offered: the program's first language
    assert 'name="language" value="ru"' not in page.text
    assert 'name="language" value="en"' in page.text
