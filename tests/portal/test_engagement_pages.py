"""The portal's engagement pages: inviting friends (the member's code, link, terms and friends), the public invitation
where a friend joins (enrolled with ``referred_by``, the referral recorded, an existing address told nothing new), and
challenges, badges, streaks and leaderboards (progress in words, joining, the leaderboard choice); each page only for
a program with its mechanic, and in every language."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from punchcard.i18n.catalogue import LANGUAGES
from punchcard.i18n.translator import Translator
from punchcard.kit.db import unit_of_work
from punchcard.member.models import Member
from punchcard.outbox.models import OutboxEvent
from punchcard.referral.models import ReferralSignal
from tests.challenge.games import BADGES, REGULAR
from tests.factories import ApiClient, at_moment, deliver_outbox, line
from tests.portal.conftest import NOW, Anna, Browser, enrol_anna, link_in, visible
from tests.portal.test_i18n import english_leftovers
from tests.portal.test_page_weight import ASSETS, LIMIT

REFERRALS: dict[str, Any] = {
    "referrer": {"points": 200},
    "referee": {"points": 100},
    "qualify": {"on": "first_purchase", "min_order_total": "20.00"},
    "caps": {"per_month": 10},
    "fraud_checks": {"self_referral": "reject"},
}
EXPLORER: dict[str, Any] = {
    "code": "explorer",
    "name": "Explorer",
    "description": "Buy from 3 different categories within 30 days of joining",
    "goal": {"categories": 3},
    "window": {"days": 30},
    "opt_in": True,
    "prize": {"points": 150, "badge": "explorer"},
}
BEAN_MONTH: dict[str, Any] = {
    "code": "bean-month",
    "name": "Bean month",
    "goal": {"count": 3},
    "lines": {"categories": ["coffee-beans"]},
    "window": {"every": "month"},
    "prize": {"reward": "free-drink"},
}
SPRING: dict[str, Any] = {
    "code": "spring",
    "name": "Spring",
    "goal": {"count": 1},
    "window": {"from": "2026-03-01", "until": "2026-03-31"},
    "opt_in": True,
    "prize": {"points": 10},
}
GAMES: dict[str, Any] = {"badges": BADGES, "challenges": [EXPLORER, BEAN_MONTH, SPRING], "streaks": [REGULAR]}
NOTHING: dict[str, Any] = {"referrals": None, "badges": [], "challenges": [], "streaks": []}
"""A program with none of these mechanics (whatever the demo program gains)."""


def with_program(browser: Browser, make_program: object, changes: dict[str, Any]) -> ApiClient:
    """A fresh demo program with ``changes``, on ``browser``."""
    browser.api = make_program({**NOTHING, **changes})  # type: ignore[operator]
    return browser.api


def signed_in_anna(browser: Browser, make_program: object, changes: dict[str, Any]) -> Anna:
    with_program(browser, make_program, changes)
    anna = enrol_anna(browser.api)
    assert browser.sign_in(anna.email).status_code == 303
    return anna


def code_of(api: ApiClient, member: str) -> str:
    response = api.get(f"/api/v1/members/{member}/referral")
    assert response.status_code == 200, response.text
    return str(response.json()["code"])


def members_with(engine: Engine, program_id: int, email: str) -> list[Member]:
    with unit_of_work(engine) as session:
        found = session.execute(
            select(Member).where(Member.program_id == program_id, func.lower(Member.email) == email.lower())
        )
        members = list(found.scalars())
        session.expunge_all()
        return members


def outbox_types(engine: Engine, program_id: int, member_id: int) -> list[str]:
    with unit_of_work(engine) as session:
        query = select(OutboxEvent.type).where(OutboxEvent.program_id == program_id, OutboxEvent.member_id == member_id)
        return sorted(session.execute(query.order_by(OutboxEvent.id)).scalars())


def join_form(browser: Browser, code: str, **fields: str) -> dict[str, str]:
    page = browser.get(f"/join?ref={code}")
    assert page.status_code == 200, visible(page.text)
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', page.text)
    assert csrf is not None
    form = {"ref": code, "email": "", "name": "", "language": "en", "csrf": csrf.group(1)}
    return {**form, **fields}


def signed_out(browser: Browser) -> Browser:
    """``browser`` with no session: a friend opening the link on their own device."""
    browser.http.cookies.clear()
    return browser


# --- the referral page -----------------------------------------------------------------------------------------


def test_the_referral_page_shows_the_code_link_terms_qr_code_and_friends(
    browser: Browser, make_program: object
) -> None:
    # Given Anna, one friend who qualified and was paid, and one who has only joined
    signed_in_anna(browser, make_program, {"referrals": REFERRALS})
    api, code = browser.api, code_of(browser.api, "anna")
    api.member("ben", email="ben@example.com", name="Ben Kask", referred_by=code, enrolled_at="2026-06-03T10:00:00Z")
    api.purchase("ben", [line("BEANS", "coffee-beans", "25.00")], occurred_at="2026-06-04T10:00:00+00:00")
    api.member("carl", email="carl@example.com", name="Carl", referred_by=code, enrolled_at="2026-06-05T10:00:00Z")
    deliver_outbox(browser.http)  # pays Anna's side
    # When she opens the page
    page = browser.get("/referral")
    # Then it shows her code, her link and its QR code, the terms, and each friend by first name and initial
    assert page.status_code == 200
    text = visible(page.text)
    link = f"http://portal.test/portal/{api.slug}/join?ref={code}"
    assert f'value="{link}"' in page.text
    assert f'data-copy="{link}"' in page.text
    assert f"Your code {code}" in text
    assert '<svg role="img" aria-label="QR code of your invitation link"' in page.text
    assert (
        "When a friend joins with your link and their first purchase comes to €20.00 or more, you get 200 points "
        "and your friend gets 100 points. The purchase counts if it comes within 365 days of joining. "
        "You are rewarded for up to 10 friends a month."
    ) in text
    assert "You have earned 200 points by inviting friends." in text
    assert "Carl joined on June 5, 2026 Joined, waiting for a first purchase" in text
    assert "Ben K. joined on June 3, 2026 Rewarded · 200 points" in text
    assert "Kask" not in text
    assert text.index("Carl joined") < text.index("Ben K. joined")  # newest first, as the API lists them
    api_view = api.get("/api/v1/members/anna/referral").json()
    assert (api_view["earned"], [friend["name"] for friend in api_view["referred"]]) == (200, ["Carl", "Ben K."])


def test_a_first_visit_makes_the_code_the_api_then_gives(browser: Browser, make_program: object) -> None:
    signed_in_anna(browser, make_program, {"referrals": REFERRALS})
    page = browser.get("/referral")
    shown = re.search(r'id="referral-code">([A-Z0-9]+)<', page.text)
    assert shown is not None
    assert code_of(browser.api, "anna") == shown.group(1)
    assert "Nobody has joined with your link yet." in visible(page.text)
    assert "You have earned 0 points by inviting friends." in visible(page.text)


def test_the_terms_follow_the_programs_referral_definition(browser: Browser, make_program: object) -> None:
    terms = {
        "referrer": {"reward": "free-drink"},
        "referee": {"points": 50, "reward": "free-drink"},
        "qualify": {"on": "enrolment"},
        "caps": {"lifetime": 1},
    }
    signed_in_anna(browser, make_program, {"referrals": terms})
    text = visible(browser.get("/referral").text)
    assert (
        "When a friend joins with your link, you get a coupon for A free drink and your friend gets 50 points and a "
        "coupon for A free drink. You are rewarded for up to 1 friend in all."
    ) in text
    assert "within" not in text


def test_while_referrals_are_paused_the_page_shows_no_link(browser: Browser, make_program: object) -> None:
    signed_in_anna(browser, make_program, {"referrals": {**REFERRALS, "enabled": False}})
    page = browser.get("/referral")
    assert "Invitations are paused at the moment." in visible(page.text)
    assert "join?ref=" not in page.text


def test_the_nav_has_the_engagement_pages_only_when_the_program_has_them(
    browser: Browser, make_program: object
) -> None:
    signed_in_anna(browser, make_program, {"referrals": REFERRALS, **GAMES})
    tabs = re.findall(r'<li><a href="[^"]+"[^>]*>([^<]+)</a></li>', browser.get().text)
    assert tabs == [
        "Home",
        "History",
        "Rewards",
        "My coupons",
        "Challenges",
        "Invite friends",
        "Causes",
        "Wallet",
        "Card",
        "Profile",
    ]

    signed_in_anna(browser, make_program, {})
    tabs = re.findall(r'<li><a href="[^"]+"[^>]*>([^<]+)</a></li>', browser.get().text)
    assert tabs == ["Home", "History", "Rewards", "My coupons", "Causes", "Wallet", "Card", "Profile"]
    for path in ("/referral", "/challenges", "/join?ref=ABCDEFGH"):
        page = browser.get(path)
        assert (page.status_code, "Page not found" in page.text) == (404, True), path
    refused = browser.post("/challenges/leaderboards", {"shown": "yes", "csrf": browser.csrf("/profile")})
    assert refused.status_code == 404
    assert browser.api.get("/api/v1/members/anna/leaderboard").json()["shown"] is False


# --- the invitation and joining ----------------------------------------------------------------------------------


def test_the_invitation_names_who_invites_and_what_the_friend_gets(browser: Browser, make_program: object) -> None:
    api = with_program(browser, make_program, {"referrals": REFERRALS})
    api.member("anna", email="anna@example.com", name="Anna Maria Tamm")
    page = browser.get(f"/join?ref={code_of(api, 'anna').lower()}")  # codes are read without case
    assert page.status_code == 200
    text = visible(page.text)
    assert "Anna T. invites you to join Bean There Coffee Roasters." in text
    assert "Join now and you get 100 points with your first purchase of €20.00 or more." in text
    assert "Tamm" not in text
    for field in ('name="email"', 'name="name"', 'name="language"', 'name="marketing_consent"', 'name="csrf"'):
        assert field in page.text


def test_joining_enrols_the_friend_referred_and_mails_a_sign_in_link(
    engine: Engine, browser: Browser, make_program: object
) -> None:
    # Given Anna's invitation, opened by a friend
    api = with_program(browser, make_program, {"referrals": REFERRALS})
    api.member("anna", email="anna@example.com", name="Anna Tamm")
    code = code_of(api, "anna")
    form = join_form(browser, code, email="Ben@Example.com", name=" Ben Kask ", language="et", marketing_consent="yes")
    # When the friend joins
    answer = browser.post("/join", form)
    # Then they are asked to check their mail, in the language they chose
    assert answer.status_code == 200
    assert "Sisselogimislink on teel aadressile Ben@example.com." in visible(answer.text)
    # and they are a member, referred by Anna, with what they typed and the welcome bonus
    [ben] = members_with(engine, api.program_id, "ben@example.com")
    assert ben.external_id.startswith("portal-")
    assert (ben.name, ben.language, ben.marketing_consent) == ("Ben Kask", "et", True)
    assert api.available(ben.external_id) == 50
    friends = api.get("/api/v1/members/anna/referral").json()["referred"]
    assert [(friend["name"], friend["status"]) for friend in friends] == [("Ben K.", "pending")]
    assert "referral.made" in outbox_types(engine, api.program_id, ben.id)
    with unit_of_work(engine) as session:
        kinds = session.execute(select(ReferralSignal.kind).where(ReferralSignal.member_id == ben.id)).scalars()
        assert sorted(kinds) == ["email", "ip"]
    # and the sign-in link that arrives signs them in
    deliver_outbox(browser.http)
    link = link_in(browser.smtp.wait_for("Ben@example.com"))
    assert browser.http.get(link.split("portal.test", 1)[1], follow_redirects=False).status_code == 303
    assert "Tere, Ben Kask!" in visible(browser.get().text)


def test_an_address_that_is_a_member_already_gets_the_same_answer_and_no_second_member(
    engine: Engine, browser: Browser, make_program: object
) -> None:
    api = with_program(browser, make_program, {"referrals": REFERRALS})
    api.member("anna", email="anna@example.com", name="Anna Tamm")
    api.member("dora", email="dora@example.com", name="Dora Mets")
    code = code_of(api, "anna")
    new = browser.post("/join", join_form(browser, code, email="eve@example.com", name="Eve Saar"))
    known = browser.post("/join", join_form(browser, code, email="Dora@example.com", name="Someone Else"))
    assert known.status_code == new.status_code == 200
    assert visible(known.text).replace("Dora@example.com", "@") == visible(new.text).replace("eve@example.com", "@")
    [dora] = members_with(engine, api.program_id, "dora@example.com")
    assert (dora.external_id, dora.name) == ("dora", "Dora Mets")
    friends = api.get("/api/v1/members/anna/referral").json()["referred"]
    assert [friend["name"] for friend in friends] == ["Eve S."]  # Dora was not made anyone's friend
    deliver_outbox(browser.http)
    link_in(browser.smtp.wait_for("dora@example.com"))  # and she got her sign-in link, nothing else
    # Sending the form again for the new address enrols nobody new either
    again = browser.post("/join", join_form(browser, code, email="eve@example.com", name="Eve Saar"))
    assert visible(again.text) == visible(new.text)
    assert len(members_with(engine, api.program_id, "eve@example.com")) == 1


def test_an_address_given_up_by_a_member_can_join_again(engine: Engine, browser: Browser, make_program: object) -> None:
    api = with_program(browser, make_program, {"referrals": REFERRALS})
    api.member("anna", email="anna@example.com", name="Anna Tamm")
    code = code_of(api, "anna")
    assert browser.post("/join", join_form(browser, code, email="fay@example.com", name="Fay")).status_code == 200
    [first] = members_with(engine, api.program_id, "fay@example.com")
    assert api.patch(f"/api/v1/members/{first.external_id}", {"email": "fay@elsewhere.example"}).status_code == 200
    assert browser.post("/join", join_form(browser, code, email="fay@example.com", name="Fay")).status_code == 200
    [second] = members_with(engine, api.program_id, "fay@example.com")
    assert second.external_id.startswith("portal-")
    assert second.external_id != first.external_id


@pytest.mark.parametrize("path", ["/join?ref=NOSUCHCODE", "/join", "/join?ref="])
def test_an_unknown_code_is_a_friendly_page(browser: Browser, make_program: object, path: str) -> None:
    with_program(browser, make_program, {"referrals": REFERRALS})
    page = browser.get(path)
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    text = visible(page.text)
    assert "This invitation does not work" in text
    assert "Already a member? Sign in" in text


def test_joining_with_an_unknown_code_or_a_stale_form_enrols_nobody(
    engine: Engine, browser: Browser, make_program: object
) -> None:
    api = with_program(browser, make_program, {"referrals": REFERRALS})
    api.member("anna", email="anna@example.com", name="Anna Tamm")
    form = join_form(browser, code_of(api, "anna"), email="gus@example.com", name="Gus")
    unknown = browser.post("/join", {**form, "ref": "NOSUCHCODE"})
    assert (unknown.status_code, "This invitation does not work" in unknown.text) == (404, True)
    stale = browser.post("/join", {**form, "csrf": "0" * 64})
    assert stale.status_code == 400
    assert "The form had expired. Please send it again." in visible(stale.text)
    for changes, message in (
        ({"email": "not an address"}, "Please enter a valid e-mail address"),
        ({"name": "  "}, "Please enter your name."),
        ({"language": "de"}, "Please choose one of the listed languages."),
    ):
        refused = browser.post("/join", {**form, **changes})
        assert (refused.status_code, message in visible(refused.text)) == (400, True), changes
    assert members_with(engine, api.program_id, "gus@example.com") == []
    assert api.get("/api/v1/members/anna/referral").json()["referred"] == []


def test_a_blocked_referrers_code_is_a_friendly_page(browser: Browser, make_program: object) -> None:
    api = with_program(browser, make_program, {"referrals": REFERRALS})
    api.member("anna", email="anna@example.com", name="Anna Tamm")
    code = code_of(api, "anna")
    assert api.patch("/api/v1/members/anna", {"status": "blocked"}).status_code == 200
    assert browser.get(f"/join?ref={code}").status_code == 404


def test_sign_ups_from_one_address_are_counted_by_the_referral_checks(browser: Browser, make_program: object) -> None:
    checks = {**REFERRALS, "fraud_checks": {"signups_from_one_source": "hold", "signups_per_source_per_day": 1}}
    api = with_program(browser, make_program, {"referrals": checks})
    api.member("anna", email="anna@example.com", name="Anna Tamm")
    code = code_of(api, "anna")
    for name in ("Hal", "Ida"):
        browser.post("/join", join_form(browser, code, email=f"{name.lower()}@example.com", name=name))
    friends = api.get("/api/v1/members/anna/referral").json()["referred"]
    assert [(friend["name"], friend["status"]) for friend in friends] == [("Ida", "held"), ("Hal", "pending")]
    [held] = api.get("/api/v1/referrals").json()["referrals"]
    assert [flag["check"] for flag in held["flags"]] == ["signups_from_one_source"]


def test_a_signed_in_member_opening_an_invitation_goes_home(browser: Browser, make_program: object) -> None:
    signed_in_anna(browser, make_program, {"referrals": REFERRALS})
    page = browser.get(f"/join?ref={code_of(browser.api, 'anna')}")
    assert (page.status_code, page.headers["location"]) == (303, browser.url())


# --- challenges, badges, streaks, leaderboards ------------------------------------------------------------------


def test_the_challenges_page_shows_status_progress_time_left_and_prizes(browser: Browser, make_program: object) -> None:
    signed_in_anna(browser, make_program, GAMES)  # two orders of coffee beans, on 1 and 2 June
    page = browser.get("/challenges")
    assert page.status_code == 200
    text = visible(page.text)
    assert (
        "Explorer Open to join Buy from 3 different categories within 30 days of joining "
        "0 of 3 categories, 30 days from when you join Prize 150 points The Explorer badge "
        "Only purchases after you join count. Join"
    ) in text
    assert (
        "Bean month In progress 2 of 3 purchases, 21 days left A new challenge every month. "
        "Prize A coupon for A free drink"
    ) in text
    assert "Spring" not in text  # over, and never completed
    assert '<progress max="3" value="2" aria-labelledby="progress-bean-month">' in page.text
    assert "Regular 1 month in a row This month counts already. Next reward at 3 months in a row." in text
    assert "Badges Explorer Not earned yet Regular Not earned yet Next: Bronze level, 1 more time" in text
    assert 'src="/api/v1/badges/images/star-plain.svg"' in page.text
    assert 'src="/api/v1/badges/images/shield-bronze.svg"' in page.text


def test_joining_a_challenge_from_the_page_counts_what_follows(browser: Browser, make_program: object) -> None:
    signed_in_anna(browser, make_program, GAMES)
    joined = browser.post("/challenges/explorer/join", {"csrf": browser.csrf("/challenges")})
    assert (joined.status_code, joined.headers["location"]) == (
        303,
        browser.url("/challenges?joined=explorer#challenge-explorer"),
    )
    page = visible(browser.get("/challenges?joined=explorer").text)
    assert "You joined Explorer. Good luck!" in page
    assert "Explorer In progress" in page
    assert "0 of 3 categories, 31 days left" in page  # the 30 days after today, and today
    api_view = at_moment(browser.api, NOW.isoformat(), "GET", "/api/v1/members/anna/challenges").json()["items"][0]
    assert (api_view["code"], api_view["status"], api_view["days_left"]) == ("explorer", "joined", 31)
    # Joining again changes nothing
    again = browser.post("/challenges/explorer/join", {"csrf": browser.csrf("/challenges")})
    assert again.status_code == 303
    for category, hour in (("coffee-beans", 10), ("merch", 11), ("food", 12)):
        at = f"2026-06-10T{hour}:00:00+00:00"
        browser.api.purchase("anna", [line(f"SKU-{category}", category, "5.00")], occurred_at=at)
    text = visible(browser.get("/challenges").text)
    assert "Explorer Completed" in text
    assert "3 of 3 categories, completed on June 10, 2026" in text
    assert "Explorer Earned" in text
    assert "Open to join" not in text


def test_joining_needs_the_forms_token_a_known_challenge_and_an_open_window(
    browser: Browser, make_program: object
) -> None:
    signed_in_anna(browser, make_program, GAMES)
    assert browser.post("/challenges/explorer/join", {"csrf": "nope"}).status_code == 403
    assert browser.post("/challenges/no-such/join", {"csrf": browser.csrf("/challenges")}).status_code == 404
    closed = browser.post("/challenges/spring/join", {"csrf": browser.csrf("/challenges")})
    assert closed.status_code == 409
    assert "This challenge is over and can no longer be joined." in visible(closed.text)
    listed = at_moment(browser.api, NOW.isoformat(), "GET", "/api/v1/members/anna/challenges").json()["items"]
    statuses = {item["code"]: item["status"] for item in listed}
    assert statuses == {"explorer": "available", "bean-month": "joined"}


def test_the_leaderboard_choice_persists_and_shows_first_names_and_initials(
    browser: Browser, make_program: object
) -> None:
    signed_in_anna(browser, make_program, GAMES)
    api = browser.api
    api.member("bob", email="bob@example.com", name="Bob van Mets")
    api.purchase("bob", [line("BEANS", "coffee-beans", "12.00")], occurred_at="2026-06-03T12:00:00+00:00")
    assert api.request("PUT", "/api/v1/members/bob/leaderboard", {"shown": True}).status_code == 200
    before = visible(browser.get("/challenges").text)
    assert "Leaderboards show only members who agree to it" in before
    assert "You are not shown on the leaderboards. Show me on the leaderboards" in before
    assert "Leaderboard: Bean month Place Member Progress 1 Bob M. 1 of 3 purchases" in before
    assert "Leaderboard: Explorer Nobody is on this leaderboard yet." in before

    shown = browser.post("/challenges/leaderboards", {"shown": "yes", "csrf": browser.csrf("/challenges")})
    assert (shown.status_code, shown.headers["location"]) == (303, browser.url("/challenges?shown=1#leaderboards"))
    assert api.get("/api/v1/members/anna/leaderboard").json() == {"shown": True, "shown_as": "Anna T."}
    after = visible(browser.get("/challenges?shown=1").text)
    assert "Done: you are now shown on the leaderboards." in after
    assert "You are shown on the leaderboards as Anna T. Take me off the leaderboards" in after
    assert "Leaderboard: Bean month Place Member Progress 1 Anna T. 2 of 3 purchases 2 Bob M. 1 of 3 purchases" in after

    hidden = browser.post("/challenges/leaderboards", {"shown": "no", "csrf": browser.csrf("/challenges")})
    assert hidden.status_code == 303
    assert api.get("/api/v1/members/anna/leaderboard").json()["shown"] is False
    assert "Anna T." not in visible(browser.get("/challenges").text)
    assert browser.post("/challenges/leaderboards", {"shown": "yes", "csrf": "nope"}).status_code == 403
    assert api.get("/api/v1/members/anna/leaderboard").json()["shown"] is False


def test_a_program_with_badges_only_shows_them_without_challenges_or_leaderboards(
    browser: Browser, make_program: object
) -> None:
    signed_in_anna(browser, make_program, {"badges": BADGES})
    page = browser.get("/challenges")
    assert page.status_code == 200
    text = visible(page.text)
    assert "Badges Explorer Not earned yet" in text
    assert "Leaderboards" not in text
    assert "Your challenges" not in text


def test_a_challenges_streak_and_badges_progress_in_money_and_levels(browser: Browser, make_program: object) -> None:
    spend = {
        "code": "big-spender",
        "name": "Big spender",
        "goal": {"spend": "100.00"},
        "window": {"from": "2026-06-01", "until": "2026-06-30"},
        "prize": {"points": 20, "badge": "regular"},
    }
    signed_in_anna(browser, make_program, {"badges": BADGES, "challenges": [spend], "streaks": [REGULAR]})
    text = visible(browser.get("/challenges").text)
    assert "Big spender In progress €79.50 of €100.00 spent, 21 days left" in text
    browser.api.purchase("anna", [line("GRINDER", "equipment", "30.00")], occurred_at="2026-06-09T12:00:00+00:00")
    text = visible(browser.get("/challenges").text)
    assert "Big spender Completed €109.50 of €100.00 spent, completed on June 9, 2026" in text
    assert "Regular Bronze level Next: Silver level, 1 more time" in text


def test_the_engagement_pages_are_light_and_load_nothing_from_elsewhere(browser: Browser, make_program: object) -> None:
    signed_in_anna(browser, make_program, {"referrals": REFERRALS, **GAMES})
    code = code_of(browser.api, "anna")
    pages = [browser.get("/referral"), browser.get("/challenges")]
    pages.append(signed_out(browser).get(f"/join?ref={code}"))
    for page in pages:
        assert page.status_code == 200, page.url
        assets = ASSETS.findall(page.text)
        weight = len(page.content) + sum(len(browser.http.get(asset).content) for asset in assets)
        assert weight < LIMIT, (page.url, weight)
        assert all(asset.startswith("/") and not asset.startswith("//") for asset in assets), page.url
        images = re.findall(r'<img[^>]*\ssrc="([^"]*)"', page.text)
        assert all(image.startswith("/api/v1/badges/images/") for image in images), page.url


# --- every language --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_engagement_pages_speak_the_chosen_language(browser: Browser, make_program: object, language: str) -> None:
    ui = Translator(language)
    signed_in_anna(browser, make_program, {"referrals": REFERRALS, **GAMES})
    browser.get(f"?lang={language}")
    for path, heading in (("/referral", "referral.title"), ("/challenges", "challenge.title")):
        page = browser.get(path)
        assert page.status_code == 200, path
        assert f'<html lang="{language}">' in page.text, path
        text = visible(page.text)
        assert ui.t(heading) in text, path
        assert ui.t("referral.nav") in text, path
        assert ui.t("challenge.nav") in text, path
        if language != "en":
            assert english_leftovers(text, browser) == [], path
    code = code_of(browser.api, "anna")
    signed_out(browser)
    for page in (browser.get(f"/join?ref={code}&lang={language}"), browser.get(f"/join?ref=NOPE&lang={language}")):
        text = visible(page.text)
        assert f'<html lang="{language}">' in page.text
        if language != "en":
            assert english_leftovers(text, browser) == []
    invitation = visible(browser.get(f"/join?ref={code}").text)
    assert ui.t("join.invited", name="Anna T.", program=program_name(browser, language)) in invitation


def program_name(browser: Browser, language: str) -> str:
    name = browser.api.get("/api/v1/program").json()["definition"]["name"]
    return str(name[language] if isinstance(name, dict) else name)
