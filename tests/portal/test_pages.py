"""The signed-in member's pages: balance, expiring points and tier on Home, the history in words, rewards with why
they are locked, redeeming once per confirmation, coupons by status, the card, and the profile."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine

from punchcard.portal import views
from tests.factories import at_moment, run_jobs
from tests.portal.conftest import KEY, NOW, Anna, Browser, enrol_anna, visible


def coupon_codes(browser: Browser) -> list[str]:
    response = browser.api.get("/api/v1/members/anna/coupons")
    assert response.status_code == 200, response.text
    return [item["code"] for item in response.json()["items"]]


def redeem(browser: Browser, reward: str) -> str:
    """Confirm ``reward`` on its page; returns the coupon code the portal redirects to."""
    page = browser.get(f"/rewards/{reward}")
    key = KEY.search(page.text)
    assert key is not None, visible(page.text)
    done = browser.post(f"/rewards/{reward}", {"key": key.group(1), "csrf": browser.csrf("/rewards/" + reward)})
    assert done.status_code == 303, visible(done.text)
    location = done.headers["location"]
    assert location.startswith(browser.url("/coupons/"))
    return location.removeprefix(browser.url("/coupons/")).removesuffix("?new=1")


# --- Home ----------------------------------------------------------------------------------------------------------


def test_home_shows_the_balance_the_tier_progress_and_the_rewards_within_reach(browser: Browser, anna: Anna) -> None:
    text = visible(browser.get().text)
    assert "Hello, Anna Tamm!" in text
    assert "Points to spend 209 points" in text
    assert "Your tier Bronze" in text
    assert "159 points collected so far" in text
    assert "341 more points to reach Silver" in text
    assert "Tiers count what you collected in the last 12 months." in text
    assert "Rewards you can get now A free drink 150 points See all rewards" in text
    assert "None of your points expire in the next 30 days." in text
    assert "more points are pending" not in text


def test_home_lists_the_points_expiring_within_thirty_days_with_their_last_day(browser: Browser, anna: Anna) -> None:
    browser.clock.set(datetime.fromisoformat("2026-12-10T09:00:00+00:00"))
    browser.sign_in(anna.email)  # half a year later: the session of June has ended
    text = visible(browser.get().text)
    # The welcome bonus of 1 January 2026 expires after 12 months, at the end of 1 January 2027 in Tallinn.
    assert "Expiring in the next 30 days 50 points, usable until January 1, 2027" in text
    assert "usable until June" not in text  # the orders' points expire later than 30 days from now


def test_home_shows_pending_points_apart_from_points_to_spend(browser: Browser, make_program: object) -> None:
    pending = make_program({"points": {"pending_days": 14}})  # type: ignore[operator]
    browser.api = pending
    member = enrol_anna(pending)
    browser.sign_in(member.email)
    text = visible(browser.get().text)
    assert "Points to spend 50 points" in text
    assert "159 more points are pending: you can use them once the return period is over." in text


def test_a_silver_member_sees_what_keeps_their_tier_and_the_multiplier(browser: Browser, anna: Anna) -> None:
    browser.api.purchase(
        "anna",
        [{"sku": "BEANS-3", "category": "coffee-beans", "quantity": 1, "unit_price": "200.00"}],
        order_id="O-3",
        occurred_at="2026-06-05T12:00:00+00:00",
    )
    text = visible(browser.get().text)
    assert "Your tier Silver You earn 1.25× points on purchases." in text
    assert "559 points collected so far" in text
    assert "941 more points to reach Gold" in text
    assert "You have done enough to keep Silver." in text


# --- History ---------------------------------------------------------------------------------------------------------


def test_history_tells_each_movement_in_words(engine: Engine, browser: Browser, anna: Anna) -> None:
    redeem(browser, "free-drink")  # spends the welcome bonus, O-1's points and 41 of O-2's (soonest expiry first)
    browser.api.refund("anna", "O-1", occurred_at="2026-06-11T12:00:00+00:00", amount="29.50")
    adjustment = {"points": 10, "reason": "Sorry about the delay"}
    adjusted = at_moment(
        browser.api, "2026-06-12T12:00:00+00:00", "POST", "/api/v1/members/anna/adjustments", adjustment
    )
    assert adjusted.status_code == 201, adjusted.text
    run_jobs(browser.api, engine, "2027-07-01T00:00:00+00:00")  # the adjustment's 10 points expired on 13 June 2027
    browser.clock.set(datetime.fromisoformat("2027-07-01T09:00:00+00:00"))
    browser.sign_in(anna.email)
    text = visible(browser.get("/history").text)
    expected = [
        "10 points expired June 13, 2027 −10",
        "10 points added by our team: Sorry about the delay June 12, 2026 +10",
        "59 points taken back because order O-1 was refunded June 11, 2026 −59",
        "150 points spent on A free drink June 10, 2026 −150",
        "100 points for order O-2: 2 points per € on coffee beans June 2, 2026 +100",
        "59 points for order O-1: 2 points per € on coffee beans June 1, 2026 +59",
        "50 points: Welcome bonus January 1, 2026 +50",
    ]
    positions = [text.find(line) for line in expected]
    assert all(position >= 0 for position in positions), [line for line in expected if line not in text]
    assert positions == sorted(positions)


def test_history_pages_never_split_a_movement(browser: Browser, anna: Anna, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "HISTORY_PAGE", 4)
    redeem(browser, "free-drink")  # three spend entries, one per lot the 150 points came from
    lines, path = [], "/history"
    while path:
        page = browser.get(path)
        lines += [item for item in re.findall(r"<span>([^<]+)</span>", page.text) if "point" in item]
        older = re.search(r'href="(\?before=\d+)"', page.text)
        path = f"/history{older.group(1)}" if older else ""
    assert lines == [
        "150 points spent on A free drink",
        "100 points for order O-2: 2 points per € on coffee beans",
        "59 points for order O-1: 2 points per € on coffee beans",
        "50 points: Welcome bonus",
    ]


def test_history_of_a_new_member_says_nothing_happened_yet(browser: Browser, make_program: object) -> None:
    quiet = make_program({"earning_rules": []})  # type: ignore[operator]
    browser.api = quiet
    quiet.member("anna", email="quiet@example.com")
    browser.sign_in("quiet@example.com")
    assert "Nothing has happened here yet." in visible(browser.get("/history").text)


# --- Rewards and redeeming -------------------------------------------------------------------------------------------


def test_rewards_say_which_can_be_redeemed_and_why_the_others_cannot(browser: Browser, anna: Anna) -> None:
    text = visible(browser.get("/rewards").text)
    assert "You have 209 points to spend." in text
    assert "5 € off your order 500 points €5.00 off your order For orders of €20.00 or more" in text
    assert "You need 291 more points." in text
    drink = "A free drink 150 points Any drink from our coffee bar, hot or cold. Free: Any drink"
    assert f"{drink} The coupon is valid for 30 days" in text
    assert "You can redeem this now. Redeem" in text
    shipping = "Free shipping 200 points Your next order ships free, whatever it weighs. Free shipping"
    assert f"{shipping} The coupon is valid for 30 days For Silver members and higher." in text


def test_a_reward_with_a_limit_says_when_the_limit_is_reached(browser: Browser, make_program: object) -> None:
    limited = make_program(  # type: ignore[operator]
        {
            "rewards": [
                {
                    "code": "free-drink",
                    "name": "A free drink",
                    "cost": 50,
                    "limit_per_member": 1,
                    "benefit": {"free_product": "DRINK-ANY"},
                }
            ]
        }
    )
    browser.api = limited
    member = enrol_anna(limited)
    browser.sign_in(member.email)
    assert "At most 1 time per member" in visible(browser.get("/rewards").text)
    redeem(browser, "free-drink")
    text = visible(browser.get("/rewards").text)
    assert "You have already redeemed this as many times as allowed." in text


def test_redeeming_asks_for_confirmation_then_shows_the_coupon(browser: Browser, anna: Anna) -> None:
    confirm = visible(browser.get("/rewards/free-drink").text)
    assert "Redeem A free drink? Free: Any drink" in confirm
    assert "This uses 150 points. Afterwards you will have 59 points. Yes, redeem Cancel" in confirm
    assert browser.api.available("anna") == 209  # looking spends nothing

    code = redeem(browser, "free-drink")
    page = browser.get(f"/coupons/{code}?new=1")
    text = visible(page.text)
    assert "Done! Here is your coupon for A free drink." in text
    assert f"Coupon code {code}" in text
    assert "Ready to use · valid until July 10, 2026" in text
    assert re.search(r'<svg role="img" aria-label="QR code of the coupon code"', page.text)
    assert f'data-copy="{code}"' in page.text
    assert browser.api.available("anna") == 59
    assert coupon_codes(browser) == [code]


def test_submitting_the_same_confirmation_twice_spends_once(browser: Browser, anna: Anna) -> None:
    page = browser.get("/rewards/free-drink")
    key = KEY.search(page.text)
    assert key is not None
    form = {"key": key.group(1), "csrf": browser.csrf("/rewards/free-drink")}
    first = browser.post("/rewards/free-drink", form)
    second = browser.post("/rewards/free-drink", form)
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert browser.api.available("anna") == 59
    assert len(coupon_codes(browser)) == 1


def test_a_reward_out_of_reach_is_not_redeemed_and_nothing_is_spent(browser: Browser, anna: Anna) -> None:
    page = browser.get("/rewards/five-euro-off")
    assert "You need 291 more points." in visible(page.text)
    assert KEY.search(page.text) is None  # no confirmation form
    forced = browser.post("/rewards/five-euro-off", {"key": "k" * 32, "csrf": browser.csrf("/rewards")})
    assert forced.status_code == 409
    assert "The reward could not be redeemed. Nothing was spent" in visible(forced.text)
    assert browser.api.available("anna") == 209
    assert coupon_codes(browser) == []


def test_a_redemption_without_the_csrf_token_is_refused(browser: Browser, anna: Anna) -> None:
    refused = browser.post("/rewards/free-drink", {"key": "k" * 32, "csrf": "nope"})
    assert refused.status_code == 403
    assert browser.api.available("anna") == 209


def test_an_unknown_reward_is_not_found(browser: Browser, anna: Anna) -> None:
    assert browser.get("/rewards/no-such-reward").status_code == 404
    missing = browser.post("/rewards/no-such-reward", {"key": "k" * 32, "csrf": browser.csrf("/rewards")})
    assert missing.status_code == 404
    assert "Page not found" in missing.text
    assert browser.api.available("anna") == 209


# --- Coupons, card, profile -----------------------------------------------------------------------------------------


def test_my_coupons_are_grouped_as_ready_used_and_expired(browser: Browser, anna: Anna) -> None:
    browser.api.purchase(
        "anna",
        [{"sku": "BEANS-9", "category": "coffee-beans", "quantity": 1, "unit_price": "200.00"}],
        order_id="O-9",
        occurred_at="2026-06-03T12:00:00+00:00",
    )
    old = redeem(browser, "free-drink")
    browser.clock.set(NOW + timedelta(days=31))  # the first coupon's 30 days are over, and so is the session
    browser.sign_in(anna.email)
    used = redeem(browser, "free-drink")
    fresh = redeem(browser, "free-drink")
    # The shop's API (another app here) at the same moment
    redemption = f"/api/v1/coupons/{used}/redemptions"
    redeemed = at_moment(browser.api, browser.clock.now().isoformat(), "POST", redemption, {"order_id": "O-77"})
    assert redeemed.status_code == 201, redeemed.text
    text = visible(browser.get("/coupons").text)
    assert f"Ready to use (1) A free drink {fresh} valid until August 10, 2026" in text
    assert f"Used (1) A free drink {used} used on July 11, 2026" in text
    assert f"Expired (1) A free drink {old} was valid until July 10, 2026" in text
    used_page = browser.get(f"/coupons/{used}")
    assert "Used · used on July 11, 2026" in visible(used_page.text)
    assert "data-copy" not in used_page.text  # nothing to copy or scan on a used coupon


def test_another_members_coupon_is_not_shown(browser: Browser, anna: Anna) -> None:
    browser.api.member("bob", email="bob@example.com")
    browser.api.purchase("bob", [{"sku": "B", "category": "coffee-beans", "quantity": 1, "unit_price": "90.00"}])
    bobs = at_moment(
        browser.api,
        NOW.isoformat(),
        "POST",
        "/api/v1/members/bob/redemptions",
        {"reward": "free-drink"},
        {"Idempotency-Key": "bob-1"},
    )
    assert bobs.status_code == 201, bobs.text
    assert browser.get(f"/coupons/{bobs.json()['coupon']['code']}").status_code == 404


def test_the_card_carries_the_member_number_as_qr_code_and_barcode(browser: Browser, anna: Anna) -> None:
    page = browser.get("/card")
    text = visible(page.text)
    assert (
        "Member card Bean There Coffee Roasters Anna Tamm Bronze Member number anna Member since January 1, 2026"
        in text
    )
    assert '<svg role="img" aria-label="QR code of your member number"' in page.text
    assert 'aria-label="Barcode of your member number"' in page.text


def test_marketing_consent_is_off_until_the_member_ticks_it(browser: Browser, anna: Anna) -> None:
    page = browser.get("/profile")
    box = re.search(r'<input id="marketing"[^>]*>', page.text)
    assert box is not None
    assert "checked" not in box.group(0)
    assert browser.api.get("/api/v1/members/anna").json()["marketing_consent"] is False


def test_saving_the_profile_changes_language_birth_date_and_consent(browser: Browser, anna: Anna) -> None:
    form = {"language": "et", "birth_date": "1990-04-12", "marketing_consent": "yes", "csrf": browser.csrf("/profile")}
    saved = browser.post("/profile", form)
    assert (saved.status_code, saved.headers["location"]) == (303, browser.url("/profile?saved=1"))
    member = browser.api.get("/api/v1/members/anna").json()
    assert (member["language"], member["birth_date"], member["marketing_consent"]) == ("et", "1990-04-12", True)
    page = browser.get("/profile?saved=1")
    assert '<html lang="et">' in page.text
    assert "Muudatused on salvestatud." in visible(page.text)

    cleared = {"language": "et", "birth_date": "", "csrf": browser.csrf("/profile")}  # an unticked box is not sent
    assert browser.post("/profile", cleared).status_code == 303
    member = browser.api.get("/api/v1/members/anna").json()
    assert (member["birth_date"], member["marketing_consent"]) == (None, False)


def test_a_profile_with_an_impossible_birth_date_or_language_is_not_saved(browser: Browser, anna: Anna) -> None:
    before = browser.api.get("/api/v1/members/anna").json()
    for language, birth_date in (("en", "2026-06-11"), ("en", "1990-02-30"), ("de", "1990-04-12")):
        form = {"language": language, "birth_date": birth_date, "csrf": browser.csrf("/profile")}
        refused = browser.post("/profile", form)
        assert refused.status_code == 400, (language, birth_date)
    assert browser.api.get("/api/v1/members/anna").json() == before


# --- Addresses and headers -------------------------------------------------------------------------------------------


def test_an_unknown_program_or_page_is_a_portal_page_not_json(browser: Browser, anna: Anna) -> None:
    unknown = (
        "/portal/no-such-program",
        "/portal/no-such-program/sign-in",
        browser.url("/coupons/NOPE-NOPE"),
        browser.url("/no/such/page"),
    )
    for path in unknown:
        answer = browser.http.get(path)
        assert answer.status_code == 404, path
        assert answer.headers["content-type"].startswith("text/html")
        assert "Page not found" in answer.text
    slash = browser.get("/")
    assert (slash.status_code, slash.headers["location"]) == (308, browser.url())
    malformed = browser.get("/history?before=yesterday")
    assert malformed.status_code == 400
    assert "Something is wrong with this address" in malformed.text


def test_pages_are_not_cached_framed_or_leaked_by_referrer(browser: Browser, anna: Anna) -> None:
    page = browser.get()
    assert page.headers["cache-control"] == "no-store"
    assert page.headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
