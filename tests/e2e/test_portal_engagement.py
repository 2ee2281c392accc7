"""The portal's engagement pages in Chromium against a real server, at desktop and phone size: the referral page's copy
button (and the plain field without JavaScript), a friend joining from the invitation and signing in by the mailed
link, joining a challenge and the leaderboard choice; every page in each of the five languages, fitting the screen,
with no accessibility violation (axe); and the screenshots the README shows."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, cast

import pytest
from playwright.sync_api import Browser, Page, expect

from punchcard.i18n.catalogue import LANGUAGES, messages
from punchcard.i18n.translator import Translator, language_name
from tests.clock import NOW
from tests.e2e.conftest import PHONE, LiveServer, axe_violations, screenshot
from tests.e2e.test_portal import Member, fits_the_width, sign_in
from tests.factories import ApiClient, ProgramMaker, line
from tests.portal.conftest import link_in
from tests.smtp import Mailbox

ALL_IMPACTS = ("minor", "moderate", "serious", "critical")
ENGAGEMENT_KEYS = ("referral.", "join.", "challenge.", "badge.", "streak.", "leaderboard.")


def texts(en: str, et: str, fi: str, sv: str, ru: str) -> dict[str, str]:
    return {"en": en, "et": et, "fi": fi, "sv": sv, "ru": ru}


PROGRAM: dict[str, Any] = {
    "referrals": {
        "referrer": {"points": 200},
        "referee": {"points": 100},
        "qualify": {"on": "first_purchase", "min_order_total": "20.00"},
        "caps": {"per_month": 10},
    },
    "badges": [
        {
            "code": "explorer",
            "name": texts("Explorer", "Avastaja", "Tutkija", "Upptäckare", "Исследователь"),
            "shape": "star",
        },
        {
            "code": "regular",
            "name": texts("Regular", "Püsiklient", "Kanta-asiakas", "Stamkund", "Постоянный гость"),
            "shape": "shield",
            "levels": {"bronze": 1, "silver": 2, "gold": 4},
        },
    ],
    "challenges": [
        {
            "code": "explorer",
            "name": texts("Explorer", "Avastaja", "Tutkija", "Upptäckare", "Исследователь"),
            "description": texts(
                "Buy from 3 different categories within 30 days of joining",
                "Osta 30 päeva jooksul kolmest eri kategooriast",
                "Osta 30 päivän aikana kolmesta eri tuoteryhmästä",
                "Handla från 3 olika kategorier inom 30 dagar",
                "Купите товары из 3 разных категорий за 30 дней",
            ),
            "goal": {"categories": 3},
            "window": {"days": 30},
            "opt_in": True,
            "prize": {"points": 150, "badge": "explorer"},
        },
        {
            "code": "bean-month",
            "name": texts("Bean month", "Ubade kuu", "Papukuukausi", "Bönmånad", "Месяц зёрен"),
            "goal": {"count": 3},
            "lines": {"categories": ["coffee-beans"]},
            "window": {"every": "month"},
            "prize": {"reward": "free-drink"},
        },
    ],
    "streaks": [
        {
            "code": "regular",
            "name": texts("Regular", "Püsiklient", "Kanta-asiakas", "Stamkund", "Постоянный гость"),
            "every": "month",
            "milestone": 3,
            "repeat": True,
            "prize": {"points": 100, "badge": "regular"},
        }
    ],
}


@dataclass(frozen=True)
class Engaged:
    api: ApiClient
    member: Member
    """Anna: two orders of coffee beans this month, one friend brought and rewarded."""
    code: str
    """Anna's referral code."""


@pytest.fixture
def engaged(make_program: ProgramMaker, live_server: LiveServer) -> Engaged:
    api = make_program(PROGRAM)
    email = f"anna-{uuid.uuid4().hex[:8]}@example.com"
    api.member("anna", email=email, name="Anna Tamm", language="en", enrolled_at=(NOW - timedelta(days=3)).isoformat())
    for days_ago, beans in (
        (2, line("BEANS-1", "coffee-beans", "29.50")),
        (1, line("BEANS-2", "coffee-beans", "25.00", 2)),
    ):
        api.purchase("anna", [beans], occurred_at=(NOW - timedelta(days=days_ago)).isoformat())
    code = api.get("/api/v1/members/anna/referral").json()["code"]
    enrolled = (NOW - timedelta(days=2)).isoformat()
    api.member("ben", email=f"ben-{api.slug}@example.com", name="Ben Kask", referred_by=code, enrolled_at=enrolled)
    api.purchase("ben", [line("BEANS", "coffee-beans", "25.00")], occurred_at=(NOW - timedelta(days=1)).isoformat())
    api.member("bob", email=f"bob-{api.slug}@example.com", name="Bob Mets")
    api.purchase("bob", [line("BEANS", "coffee-beans", "12.00")], occurred_at=(NOW - timedelta(hours=5)).isoformat())
    assert api.request("PUT", "/api/v1/members/bob/leaderboard", {"shown": True}).status_code == 200
    deadline = time.monotonic() + 10
    while api.get("/api/v1/members/anna/referral").json()["earned"] != 200:  # the server's dispatcher pays Anna
        assert time.monotonic() < deadline, "the referrer was not paid"
        time.sleep(0.05)
    return Engaged(api, Member(email, f"{live_server.url}/portal/{api.slug}"), code)


def no_english_left(text: str) -> list[str]:
    """English forms of the engagement pages' messages (without placeholders) found in ``text``."""
    english = [
        message
        for key, message in messages("en").items()
        if key.startswith(ENGAGEMENT_KEYS) and isinstance(message, str) and "{" not in message
    ]
    return [message for message in english if message in text]


def test_the_copy_button_puts_the_invitation_link_on_the_clipboard(
    page: Page, live_server: LiveServer, mailbox: Mailbox, engaged: Engaged
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    sign_in(page, engaged.member, mailbox)
    page.get_by_role("link", name="Invite friends").click()
    expect(page.get_by_role("heading", name="Invite friends", level=1)).to_be_visible()
    link = f"{engaged.member.portal}/join?ref={engaged.code}"
    expect(page.get_by_label("Link to share")).to_have_value(link)
    expect(page.locator("#referral-code")).to_have_text(engaged.code)
    expect(page.get_by_role("img", name="QR code of your invitation link")).to_be_visible()
    expect(page.get_by_text("You have earned 200 points by inviting friends.")).to_be_visible()
    expect(page.get_by_text("Ben K.")).to_be_visible()
    page.get_by_role("button", name="Copy link").click()
    expect(page.get_by_role("status").filter(has_text="The link is copied.")).to_be_visible()
    assert page.evaluate("() => navigator.clipboard.readText()") == link
    assert fits_the_width(page)
    assert axe_violations(page, ALL_IMPACTS) == []
    if page.viewport_name == "phone":  # type: ignore[attr-defined]
        screenshot(page, "portal-referral")


def test_without_javascript_the_link_is_a_plain_field_to_copy(
    browser: Browser, live_server: LiveServer, mailbox: Mailbox, engaged: Engaged
) -> None:
    scripted = browser.new_context(viewport=PHONE)
    plain = browser.new_context(viewport=PHONE, java_script_enabled=False)
    try:
        signing_in = scripted.new_page()
        sign_in(signing_in, engaged.member, mailbox)
        plain.add_cookies(cast(Any, scripted.cookies()))  # the same session, in a browser that runs no script
        page = plain.new_page()
        page.goto(f"{engaged.member.portal}/referral")
        field = page.get_by_label("Link to share")
        expect(field).to_have_value(f"{engaged.member.portal}/join?ref={engaged.code}")
        expect(field).to_have_attribute("readonly", "")
        expect(page.get_by_role("button", name="Copy link")).to_be_hidden()
    finally:
        scripted.close()
        plain.close()


def test_a_friend_joins_from_the_invitation_and_signs_in_by_the_mailed_link(
    page: Page, live_server: LiveServer, mailbox: Mailbox, engaged: Engaged
) -> None:
    page.goto(f"{engaged.member.portal}/join?ref=NOSUCHCODE")
    expect(page.get_by_role("heading", name="This invitation does not work")).to_be_visible()
    page.goto(f"{engaged.member.portal}/join?ref={engaged.code}")
    expect(page.get_by_text("Anna T. invites you to join Bean There Coffee Roasters.")).to_be_visible()
    expect(
        page.get_by_text("Join now and you get 100 points with your first purchase of €20.00 or more.")
    ).to_be_visible()
    assert fits_the_width(page)
    assert axe_violations(page, ALL_IMPACTS) == []
    email = f"cleo-{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Your name").fill("Cleo Saar")
    page.get_by_role("button", name="Join now").click()
    expect(page.get_by_role("heading", name="Check your e-mail")).to_be_visible()
    expect(page.get_by_role("status")).to_have_text(
        f"A sign-in link is on its way to {email}. Open it to see your points."
    )
    assert axe_violations(page, ALL_IMPACTS) == []
    page.goto(link_in(mailbox.wait_for(email)))
    expect(page.get_by_role("heading", name="Hello, Cleo Saar!")).to_be_visible()
    friends = engaged.api.get("/api/v1/members/anna/referral").json()["referred"]
    assert [(friend["name"], friend["status"]) for friend in friends] == [("Cleo S.", "pending"), ("Ben K.", "paid")]


def test_a_member_joins_a_challenge_and_chooses_to_be_on_the_leaderboards(
    page: Page, live_server: LiveServer, mailbox: Mailbox, engaged: Engaged
) -> None:
    sign_in(page, engaged.member, mailbox)
    page.get_by_role("link", name="Challenges").click()
    explorer = page.locator("#challenge-explorer")
    expect(explorer.get_by_text("Open to join")).to_be_visible()
    expect(page.locator("#challenge-bean-month").get_by_text("2 of 3 purchases, 6 days left")).to_be_visible()
    page.get_by_role("button", name="Join Explorer").click()
    expect(page.get_by_role("status").filter(has_text="You joined Explorer. Good luck!")).to_be_visible()
    expect(explorer.get_by_text("In progress")).to_be_visible()
    expect(explorer.get_by_text("0 of 3 categories, 31 days left")).to_be_visible()

    board = page.get_by_role("region", name="Leaderboard: Bean month")
    expect(board.get_by_role("row")).to_have_count(2)  # the heading row and Bob
    page.get_by_role("button", name="Show me on the leaderboards").click()
    expect(page.get_by_role("status").filter(has_text="you are now shown on the leaderboards")).to_be_visible()
    expect(page.get_by_text("You are shown on the leaderboards as Anna T.")).to_be_visible()
    expect(board.get_by_role("row", name="1 Anna T. 2 of 3 purchases")).to_be_visible()
    expect(board.get_by_role("row", name="2 Bob M. 1 of 3 purchases")).to_be_visible()
    assert fits_the_width(page)
    assert axe_violations(page, ALL_IMPACTS) == []
    if page.viewport_name == "desktop":  # type: ignore[attr-defined]
        screenshot(page, "portal-challenges")

    page.get_by_role("button", name="Take me off the leaderboards").click()
    expect(page.get_by_text("You are not shown on the leaderboards.")).to_be_visible()
    expect(board.get_by_role("row")).to_have_count(2)
    assert engaged.api.get("/api/v1/members/anna/leaderboard").json()["shown"] is False


@pytest.mark.parametrize("language", LANGUAGES)
def test_each_engagement_page_reads_in_each_language_fits_and_stays_accessible(
    page: Page, live_server: LiveServer, mailbox: Mailbox, engaged: Engaged, language: str
) -> None:
    ui = Translator(language)
    sign_in(page, engaged.member, mailbox)
    page.get_by_role("form", name="Language").get_by_role("button", name=language_name(language)).click()
    expect(page.locator("html")).to_have_attribute("lang", language)
    for path, heading in (("/referral", "referral.title"), ("/challenges", "challenge.title")):
        page.goto(f"{engaged.member.portal}{path}")
        expect(page.get_by_role("heading", name=ui.t(heading), level=1)).to_be_visible()
        expect(page.get_by_role("link", name=ui.t("challenge.nav"), exact=True)).to_be_visible()
        expect(page.get_by_role("link", name=ui.t("referral.nav"), exact=True)).to_be_visible()
        if language != "en":
            assert no_english_left(page.inner_text("body")) == [], path
        assert fits_the_width(page), path
        assert axe_violations(page, ALL_IMPACTS) == [], path
    page.get_by_role("button", name=ui.t("layout.sign_out")).click()
    expect(page.get_by_role("heading", name=ui.t("sign_in.title"))).to_be_visible()
    signed_out: list[tuple[str, str | None]] = [
        (f"/join?ref={engaged.code}", None),
        ("/join?ref=NOSUCHCODE", "join.invalid.title"),
    ]
    for address, title in signed_out:
        page.goto(f"{engaged.member.portal}{address}")
        assert page.evaluate("() => document.documentElement.lang") == language, address
        if title is not None:
            expect(page.get_by_role("heading", name=ui.t(title))).to_be_visible()
        else:
            expect(page.get_by_role("button", name=ui.t("join.submit"))).to_be_visible()
        if language != "en":
            assert no_english_left(page.inner_text("body")) == [], address
        assert fits_the_width(page), address
        assert axe_violations(page, ALL_IMPACTS) == [], address
