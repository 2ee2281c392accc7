"""The portal's coalition page: a roaster, Bean There (1 point a unit, the owner), and a tea shop, Leaf & Cup (2 points
a unit). The brands and their rates; unlinked, what linking does and the button; linked, the accounts with their
points and units and the total, the brands not linked yet; moving points through a confirmation step that says what
leaves and what arrives (and what stays for not making a whole unit), once per form however often it is sent, and
refused with a message that changes nothing; unlinking after a confirmation; the page in every language, in the
navigation of a program in a coalition only, and invisible to programs outside it."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from punchcard.i18n.catalogue import LANGUAGES
from punchcard.i18n.translator import Translator
from tests.factories import ApiClient
from tests.portal.conftest import CSRF, KEY, Browser, enrol_anna, visible
from tests.portal.test_i18n import english_leftovers
from tests.portal.test_page_weight import ASSETS, LIMIT

KEY_OF_FORM = "form-key-0123456789abcdef"
"""A key as the confirmation page generates them (URL-safe, 16 to 64 characters)."""
TABS = re.compile(r'<li><a href="[^"]+"[^>]*>([^<]+)</a></li>')


def named(name: str) -> dict[str, str]:
    """A brand's name, the same in every language."""
    return dict.fromkeys(LANGUAGES, name)


@dataclass(frozen=True)
class Brands:
    roaster: ApiClient
    tea: ApiClient
    email: str
    """Anna's address: ``anna`` at the roaster (209 points: see ``enrol_anna``), ``anna-tea`` at the tea shop (50)."""


def brands_of(make_program: Any, *, admitted: bool = True, at_tea: bool = True) -> Brands:
    code = f"c-{uuid.uuid4().hex[:8]}"
    tea = make_program({"name": named("Leaf & Cup"), "coalition": {"code": code, "points_per_unit": 2}})
    owner = {"unit_value": "0.01", "partners": [tea.slug] if admitted else []}
    roaster = make_program(
        {"name": named("Bean There"), "coalition": {"code": code, "points_per_unit": 1, "owner": owner}}
    )
    anna = enrol_anna(roaster)
    if at_tea:
        tea.member("anna-tea", email=anna.email, name="Anna Tamm")
    return Brands(roaster, tea, anna.email)


def signed_in(browser: Browser, brands: Brands, at: str = "roaster") -> Brands:
    browser.api = brands.roaster if at == "roaster" else brands.tea
    assert browser.sign_in(brands.email).status_code == 303
    return brands


@pytest.fixture
def brands(browser: Browser, make_program: Any) -> Brands:
    """Anna at both brands, signed in at the roaster's portal, not linked yet."""
    return signed_in(browser, brands_of(make_program))


def page_text(browser: Browser, path: str = "/coalition", status: int = 200) -> str:
    page = browser.get(path)
    assert page.status_code == status, visible(page.text)
    return visible(page.text)


def link(browser: Browser) -> httpx.Response:
    return browser.post("/coalition/link", {"csrf": browser.csrf("/coalition")})


def linked_view(brands: Brands) -> dict[str, Any]:
    view = brands.roaster.get("/api/v1/members/anna/coalition")
    assert view.status_code == 200, view.text
    return dict(view.json())


def confirmation(browser: Browser, to: str, points: str, status: int = 200) -> tuple[str, str]:
    """The confirmation step's text and the key its form carries."""
    page = browser.get(f"/coalition/transfer?to={to}&points={points}")
    assert page.status_code == status, visible(page.text)
    key = KEY.search(page.text)
    return visible(page.text), key.group(1) if key else ""


def post_transfer(browser: Browser, to: str, points: str, key: str) -> httpx.Response:
    form = {"to": to, "points": points, "key": key, "csrf": browser.csrf("/coalition")}
    return browser.post("/coalition/transfer", form)


# --- the brands, linking and unlinking -----------------------------------------------------------------------------


def test_unlinked_the_page_shows_the_brands_and_what_linking_does(browser: Browser, brands: Brands) -> None:
    page = browser.get("/coalition")
    text = visible(page.text)

    assert (
        f"Partner brands These brands share their points. Each sets how many of its points make one coalition unit, "
        f"and points move between them a whole unit at a time. Link your accounts Link your account here with your "
        f"accounts at the other brands that know your e-mail address, {brands.email}. Your balances at these brands "
        f"then become visible to each other, and you can move points between them. You can unlink at any time; "
        f"points you moved stay where they went. Link my accounts The brands and their rates "
        f"1 coalition unit = 1 point of Bean There 1 coalition unit = 2 points of Leaf & Cup"
    ) in text
    for absent in ("Your linked accounts", "Move points", "Recent movements", "Unlink"):
        assert absent not in text
    assert f'<form method="post" action="{browser.url("/coalition/link")}"' in page.text
    assert linked_view(brands)["linked"] is False


def test_linking_shows_each_account_its_units_and_the_total(browser: Browser, brands: Brands) -> None:
    answer = link(browser)

    assert (answer.status_code, answer.headers["location"]) == (303, browser.url("/coalition?done=linked"))
    text = page_text(browser, "/coalition?done=linked")
    assert "Partner brands Done: your accounts are linked. These brands share their points." in text
    assert (  # 209 roaster points are 209 units, 50 tea points 25
        "Your linked accounts Your coalition balance 234 units Bean There 209 points 209 units "
        "Leaf & Cup 50 points 25 units Unlink my accounts Move points Your points go to Leaf & Cup. Points to move "
        "Points move in whole units: here, 1 point makes one. What does not make a whole unit stays. Continue"
    ) in text
    assert "Recent movements No points have moved yet." in text
    assert "Link my accounts" not in text
    assert [account["brand"] for account in linked_view(brands)["accounts"]] == [brands.roaster.slug, brands.tea.slug]


def test_a_brand_where_no_account_is_linked_yet_is_named_and_linking_again_adds_it(
    browser: Browser, make_program: Any
) -> None:
    brands = signed_in(browser, brands_of(make_program, at_tea=False))
    assert link(browser).status_code == 303
    text = page_text(browser)
    assert (
        "Your coalition balance 209 units Bean There 209 points 209 units Not linked: Leaf & Cup. An account there is "
        "linked when it has the same e-mail address as here; if you have opened one since, link again. Link again"
    ) in text
    assert "Move points" not in text  # nowhere to move them to

    brands.tea.member("anna-tea", email=brands.email)
    assert link(browser).status_code == 303
    text = page_text(browser)
    assert "Your coalition balance 234 units" in text
    assert "Not linked" not in text


def test_unlinking_is_confirmed_first_and_the_points_stay(browser: Browser, brands: Brands) -> None:
    assert link(browser).status_code == 303
    assert "Unlink my accounts" in page_text(browser)

    text = page_text(browser, "/coalition/unlink")
    assert (
        "Unlink your accounts? The brands will no longer see your balances at each other, and no points can move "
        "between them. Points already moved stay where they went. You can link again at any time. Yes, unlink Cancel"
    ) in text
    assert linked_view(brands)["linked"] is True  # the step changes nothing

    answer = browser.post("/coalition/unlink", {"csrf": browser.csrf("/coalition/unlink")})

    assert (answer.status_code, answer.headers["location"]) == (303, browser.url("/coalition?done=unlinked"))
    text = page_text(browser, "/coalition?done=unlinked")
    assert "Done: your accounts are no longer linked." in text
    assert "Link my accounts" in text
    assert linked_view(brands)["linked"] is False
    assert brands.roaster.available("anna") == 209
    unlinked = browser.get("/coalition/unlink")
    assert (unlinked.status_code, unlinked.headers["location"]) == (303, browser.url("/coalition"))


def test_a_member_without_an_email_address_cannot_link(browser: Browser, brands: Brands) -> None:
    assert brands.roaster.request("PATCH", "/api/v1/members/anna", {"email": None}).status_code == 200
    page = link(browser)
    assert page.status_code == 422
    assert (
        '<p class="alert" role="alert" id="link-error">We have no e-mail address of yours to link your accounts by. '
        "Please contact the shop.</p>"
    ) in page.text
    assert linked_view(brands)["linked"] is False


# --- moving points -------------------------------------------------------------------------------------------------


def test_points_are_moved_after_a_confirmation_once_however_often_the_form_is_sent(
    browser: Browser, brands: Brands
) -> None:
    assert link(browser).status_code == 303
    text, key = confirmation(browser, brands.tea.slug, "100")
    assert (
        "Move points to Leaf & Cup? Move points 100 Bean There points become 200 Leaf & Cup points. "
        "Afterwards you will have 109 Bean There points and 250 Leaf & Cup points. Yes, move Cancel"
    ) in text
    assert "stays here" not in text  # every roaster point is a whole unit
    assert (brands.roaster.available("anna"), brands.tea.available("anna-tea")) == (209, 50)  # the step moves nothing

    first = post_transfer(browser, brands.tea.slug, "100", key)
    again = post_transfer(browser, brands.tea.slug, "100", key)

    assert (first.status_code, again.status_code) == (303, 303)
    assert first.headers["location"] == again.headers["location"] == browser.url("/coalition?done=moved")
    assert (brands.roaster.available("anna"), brands.tea.available("anna-tea")) == (109, 250)
    text = page_text(browser, "/coalition?done=moved")
    assert "Done! Your points have moved." in text
    assert "Your coalition balance 234 units Bean There 109 points 109 units Leaf & Cup 250 points 125 units" in text
    assert "Recent movements Moved to Leaf & Cup June 10, 2026 −100" in text
    assert "100 points moved to Leaf & Cup" in page_text(browser, "/history")


def test_what_does_not_make_a_whole_unit_stays_and_the_partner_sees_it_arrive(
    browser: Browser, make_program: Any
) -> None:
    brands = signed_in(browser, brands_of(make_program), at="tea")
    assert link(browser).status_code == 303
    assert "Points move in whole units: here, 2 points make one." in page_text(browser)

    text, key = confirmation(browser, brands.roaster.slug, "41")
    assert (
        "Move points to Bean There? Move points 40 Leaf & Cup points become 20 Bean There points. "
        "The other 1 point stays here: it does not make a whole unit. "
        "Afterwards you will have 10 Leaf & Cup points and 229 Bean There points."
    ) in text
    assert post_transfer(browser, brands.roaster.slug, "41", key).status_code == 303

    assert (brands.tea.available("anna-tea"), brands.roaster.available("anna")) == (10, 229)
    assert "Recent movements Moved to Bean There June 10, 2026 −40" in page_text(browser)
    browser.http.cookies.clear()
    signed_in(browser, brands)  # at the roaster's portal now
    assert "Recent movements Moved from Leaf & Cup June 10, 2026 +20" in page_text(browser)
    assert "20 points moved here from Leaf & Cup" in page_text(browser, "/history")


def test_each_confirmation_carries_its_own_key(browser: Browser, brands: Brands) -> None:
    assert link(browser).status_code == 303
    _, first = confirmation(browser, brands.tea.slug, "10")
    _, second = confirmation(browser, brands.tea.slug, "10")
    assert first != second
    assert post_transfer(browser, brands.tea.slug, "10", first).status_code == 303
    assert post_transfer(browser, brands.tea.slug, "10", second).status_code == 303
    assert brands.roaster.available("anna") == 189


@pytest.mark.parametrize(
    ("to", "points", "status", "message"),
    [
        ("tea", "300", 422, "You have only 209 points here to move."),
        ("tea", "abc", 400, "Enter a whole number of points, such as 100."),
        ("tea", "0", 400, "Enter a whole number of points, such as 100."),
        ("roaster", "100", 422, "Choose one of the partner brands."),
        ("no-such-brand", "100", 404, "Choose one of the partner brands."),
    ],
)
def test_a_movement_that_cannot_be_made_says_why_on_the_page_and_changes_nothing(
    browser: Browser, brands: Brands, to: str, points: str, status: int, message: str
) -> None:
    assert link(browser).status_code == 303
    slug = {"tea": brands.tea.slug, "roaster": brands.roaster.slug}.get(to, to)
    asked_first, _ = confirmation(browser, slug, points, status)
    sent_anyway = post_transfer(browser, slug, points, KEY_OF_FORM)

    assert sent_anyway.status_code == status, visible(sent_anyway.text)
    for text in (asked_first, visible(sent_anyway.text)):
        assert f"Move points {message} Your points go to Leaf & Cup." in text  # at the form of the coalition page
    assert f'<p class="alert" role="alert" id="move-error">{message}</p>' in sent_anyway.text
    assert 'aria-describedby="move-hint move-error" aria-invalid="true"' in sent_anyway.text
    assert (brands.roaster.available("anna"), brands.tea.available("anna-tea")) == (209, 50)


def test_fewer_points_than_one_unit_cannot_move(browser: Browser, make_program: Any) -> None:
    brands = signed_in(browser, brands_of(make_program), at="tea")
    assert link(browser).status_code == 303
    text, _ = confirmation(browser, brands.roaster.slug, "1", 422)
    assert "One coalition unit is 2 points here: move at least that many." in text
    sent_anyway = post_transfer(browser, brands.roaster.slug, "1", KEY_OF_FORM)
    assert sent_anyway.status_code == 422
    assert "One coalition unit is 2 points here: move at least that many." in visible(sent_anyway.text)
    assert brands.tea.available("anna-tea") == 50


def test_unlinked_no_points_move(browser: Browser, brands: Brands) -> None:
    text, _ = confirmation(browser, brands.tea.slug, "100", 422)
    sent_anyway = post_transfer(browser, brands.tea.slug, "100", KEY_OF_FORM)
    assert sent_anyway.status_code == 422
    for said in (text, visible(sent_anyway.text)):
        assert "Partner brands Your account at that brand is not linked. Link your accounts first." in said
        assert "Link my accounts" in said
    assert (brands.roaster.available("anna"), brands.tea.available("anna-tea")) == (209, 50)


def test_the_forms_need_their_token_and_key(browser: Browser, brands: Brands) -> None:
    assert browser.post("/coalition/link", {"csrf": "0" * 64}).status_code == 403
    assert linked_view(brands)["linked"] is False
    assert link(browser).status_code == 303
    _, key = confirmation(browser, brands.tea.slug, "100")
    no_token = browser.post("/coalition/transfer", {"to": brands.tea.slug, "points": "100", "key": key, "csrf": "0"})
    no_key = post_transfer(browser, brands.tea.slug, "100", "")
    assert (no_token.status_code, no_key.status_code) == (403, 403)
    assert "This form has expired" in visible(no_token.text)
    assert browser.post("/coalition/unlink", {"csrf": "0" * 64}).status_code == 403
    assert linked_view(brands)["linked"] is True
    assert brands.roaster.available("anna") == 209


def test_the_steps_asked_for_again_lead_to_the_coalition_page(browser: Browser, brands: Brands) -> None:
    for path in ("/coalition/transfer", f"/coalition/transfer?to={brands.tea.slug}", "/coalition/link"):
        page = browser.get(path)
        assert (page.status_code, page.headers["location"]) == (303, browser.url("/coalition")), path


# --- the page among the others -------------------------------------------------------------------------------------


def test_only_a_program_in_a_coalition_has_the_page_and_its_tab(browser: Browser, brands: Brands) -> None:
    page = browser.get("/coalition")
    assert TABS.findall(page.text) == [
        "Home",
        "History",
        "Rewards",
        "My coupons",
        "Causes",
        "Partners",
        "Wallet",
        "Card",
        "Profile",
    ]
    assert f'<li><a href="{browser.url("/coalition")}" aria-current="page">Partners</a></li>' in page.text


def test_a_program_outside_any_coalition_has_no_tab_and_no_page(browser: Browser, anna: Any) -> None:
    home = browser.get()
    assert "Partners" not in TABS.findall(home.text)
    for path in ("/coalition", "/coalition/transfer?to=x&points=100", "/coalition/unlink"):
        page = browser.get(path)
        assert (page.status_code, "Page not found" in page.text) == (404, True), path
    for path in ("/coalition/link", "/coalition/unlink", "/coalition/transfer"):
        assert browser.post(path, {"csrf": browser.csrf("/profile")}).status_code == 404, path


def test_neither_a_partner_not_admitted_nor_an_owner_without_partners_has_the_page(
    browser: Browser, make_program: Any
) -> None:
    brands = brands_of(make_program, admitted=False)
    for at in (brands.tea, brands.roaster):  # the owner's coalition has only itself: nothing to link or move
        browser.api = at
        assert browser.sign_in(brands.email).status_code == 303
        assert "Partners" not in TABS.findall(browser.get().text)
        assert browser.get("/coalition").status_code == 404


def test_a_program_outside_the_coalition_sees_nothing_of_it(
    browser: Browser, brands: Brands, make_program: Any
) -> None:
    outsider = make_program({"name": named("Crumbs")})
    outsider.member("anna-out", email=brands.email)
    assert link(browser).status_code == 303
    text = page_text(browser)
    assert "Crumbs" not in text
    assert [account["brand"] for account in linked_view(brands)["accounts"]] == [brands.roaster.slug, brands.tea.slug]

    browser.http.cookies.clear()
    browser.api = outsider
    assert browser.sign_in(brands.email).status_code == 303
    assert "Partners" not in TABS.findall(browser.get().text)
    assert browser.get("/coalition").status_code == 404
    refused = post_transfer_from(browser, brands.roaster.slug)
    assert refused.status_code == 404
    assert brands.roaster.available("anna") == 209


def post_transfer_from(browser: Browser, to: str) -> httpx.Response:
    form = {"to": to, "points": "10", "key": KEY_OF_FORM, "csrf": browser.csrf("/profile")}
    return browser.post("/coalition/transfer", form)


def test_signed_out_the_page_asks_to_sign_in(browser: Browser, brands: Brands) -> None:
    browser.http.cookies.clear()
    for path in ("/coalition", f"/coalition/transfer?to={brands.tea.slug}&points=10", "/coalition/unlink"):
        page = browser.get(path)
        assert (page.status_code, page.headers["location"]) == (303, browser.url("/sign-in")), path


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_page_and_its_steps_speak_the_chosen_language(browser: Browser, brands: Brands, language: str) -> None:
    ui = Translator(language)
    browser.get(f"?lang={language}")
    unlinked = browser.get("/coalition")
    assert link(browser).status_code == 303
    _, key = confirmation(browser, brands.tea.slug, "100")
    assert post_transfer(browser, brands.tea.slug, "100", key).status_code == 303
    csrf = browser.csrf("/coalition")
    pages = {
        "unlinked": unlinked,
        "coalition": browser.get("/coalition?done=moved"),
        "confirmation": browser.get(f"/coalition/transfer?to={brands.tea.slug}&points=51"),
        "too many": browser.get(f"/coalition/transfer?to={brands.tea.slug}&points=5000"),
        "refused": browser.post("/coalition/transfer", {"to": "x", "points": "abc", "key": KEY_OF_FORM, "csrf": csrf}),
        "unlink": browser.get("/coalition/unlink"),
    }
    assert [page.status_code for page in pages.values()] == [200, 200, 200, 422, 400, 200]
    for name, page in pages.items():
        assert f'<html lang="{language}">' in page.text, name
        text = visible(page.text)
        assert ui.t("nav.coalition") in text, name
        if language != "en":
            assert english_leftovers(text, browser) == [], (name, english_leftovers(text, browser))
    said = {name: " ".join(visible(page.text).split()) for name, page in pages.items()}

    def shown(message: str, where: str) -> None:
        assert " ".join(message.split()) in said[where], (where, message)

    shown(ui.t("coalition.link.intro", email=brands.email), "unlinked")
    shown(ui.n("coalition.rate", 2, brand="Leaf & Cup"), "unlinked")
    shown(ui.t("coalition.moved"), "coalition")
    shown(ui.n("coalition.units", 109 + 125), "coalition")
    shown(ui.n("points", 109), "coalition")
    shown(ui.t("coalition.movement.to", brand="Leaf & Cup"), "coalition")
    shown(ui.n("coalition.move.hint", 1), "coalition")
    shown(ui.t("coalition.confirm.question", brand="Leaf & Cup"), "confirmation")
    received = ui.n("coalition.points_of", 102, brand="Leaf & Cup")
    shown(ui.n("coalition.confirm.become", 51, sender="Bean There", received=received), "confirmation")
    shown(ui.n("coalition.refused.insufficient", 109), "too many")
    shown(ui.t("coalition.refused.invalid"), "refused")
    shown(ui.t("coalition.unlink.explain"), "unlink")
    assert CSRF.search(pages["confirmation"].text) is not None


def test_the_page_weighs_under_100_kb_with_its_css_and_js(browser: Browser, brands: Brands) -> None:
    assert link(browser).status_code == 303
    for path in ("/coalition", f"/coalition/transfer?to={brands.tea.slug}&points=100", "/coalition/unlink"):
        page = browser.get(path)
        assert page.status_code == 200, path
        weight = len(page.content) + sum(len(browser.http.get(asset).content) for asset in ASSETS.findall(page.text))
        assert weight < LIMIT, (path, weight)
