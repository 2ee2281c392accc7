"""Rewards and coupons through the API: the catalogue, redeeming a reward exactly once per Idempotency-Key, which lots
pay for it, and a shop validating, redeeming and releasing the coupon it gives."""

from __future__ import annotations

import copy
import re
from typing import Any

import httpx

from tests.factories import ApiClient, ProgramMaker, at_moment, error_of, ledger_items, line, snapshot

CODE = re.compile(r"^[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}$")
JULY_1 = "2026-07-01T09:00:00+00:00"


def redeem(api: ApiClient, member: str, reward: str, key: str) -> httpx.Response:
    return api.post(f"/api/v1/members/{member}/redemptions", {"reward": reward}, headers={"Idempotency-Key": key})


def member_with(api: ApiClient, points: int) -> str:
    """A member enrolled in May 2026 (50 welcome points) who then bought merchandise worth the rest of ``points``."""
    member = api.member(enrolled_at="2026-05-01T09:00:00+00:00")
    if points > 50:
        api.purchase(member, [line("MUG", "merch", f"{points - 50}.00")])
    assert api.available(member) == points
    return member


def coupon(api: ApiClient, member: str, reward: str) -> str:
    response = redeem(api, member, reward, f"key-{reward}-{member}")
    assert response.status_code == 201, response.text
    return str(response.json()["coupon"]["code"])


def order(total: str, *lines: dict[str, Any], currency: str = "EUR", **fields: Any) -> dict[str, Any]:
    return {"total": total, "currency": currency, "lines": list(lines), **fields}


def validate(api: ApiClient, code: str, the_order: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/v1/coupons/validate", {"code": code, "order": the_order})
    assert response.status_code == 200, response.text
    return dict(response.json())


# --- the catalogue ----------------------------------------------------------------------------------------------------


def test_the_catalogue_lists_the_programs_rewards_with_cost_benefit_and_conditions(api: ApiClient) -> None:
    response = api.get("/api/v1/rewards")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(item["code"], item["points_cost"], item["min_tier"]) for item in items] == [
        ("five-euro-off", 500, None),
        ("free-drink", 150, None),
        ("free-shipping", 200, "silver"),
    ]
    assert [(item["benefit"]["kind"], item["benefit"]["amount"], item["benefit"]["sku"]) for item in items] == [
        ("amount_off", "5.00", None),
        ("free_product", None, "DRINK-ANY"),
        ("free_shipping", None, None),
    ]
    assert items[0]["benefit"]["min_order_total"] == "20.00"
    assert items[0]["coupon_valid_days"] == 30
    assert "redeemable" not in items[0]


def test_the_catalogue_for_a_member_says_what_they_can_redeem_now_and_why_not(api: ApiClient) -> None:
    # Given a Bronze member with 200 points
    member = member_with(api, 200)
    # When the shop asks the catalogue for this member
    items = api.get("/api/v1/rewards", params={"member": member}).json()["items"]
    # Then the free drink can be redeemed, 5 EUR off needs more points, and free shipping needs Silver
    assert [(item["code"], item["redeemable"], item["obstacle"]) for item in items] == [
        ("five-euro-off", False, "insufficient_points"),
        ("free-drink", True, None),
        ("free-shipping", False, "tier_too_low"),
    ]


def test_the_catalogue_for_an_unknown_member_is_404(api: ApiClient) -> None:
    error_of(api.get("/api/v1/rewards", params={"member": "nobody"}), 404, "member_not_found")


# --- redeeming a reward -----------------------------------------------------------------------------------------------


def test_redeeming_a_reward_spends_its_points_and_issues_a_coupon_valid_for_its_days(api: ApiClient) -> None:
    # Given a member with 600 points
    member = member_with(api, 600)
    entries_before = len(ledger_items(api, member))
    # When they redeem 5 EUR off on 1 July 2026 (12:00 in Tallinn)
    response = at_moment(
        api,
        JULY_1,
        "POST",
        f"/api/v1/members/{member}/redemptions",
        {"reward": "five-euro-off"},
        {"Idempotency-Key": "r-1"},
    )
    # Then 500 points are spent and a coupon is issued that is valid for 30 days, to the end of 31 July in Tallinn
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["points_spent"] == 500
    assert CODE.match(body["coupon"]["code"]), body["coupon"]["code"]
    assert body["coupon"]["expires_at"] == "2026-07-31T21:00:00+00:00"
    assert body["balance"] == {"available": 100}
    assert api.available(member) == 100
    # And spend entries record it: the 50 welcome points (the soonest to expire) and 450 of the purchase's 550
    entries = ledger_items(api, member)
    new_entries = entries[: len(entries) - entries_before]
    assert sorted((entry["kind"], entry["points"]) for entry in new_entries) == [("spend", -450), ("spend", -50)]


def test_a_retried_redemption_returns_the_first_answer_and_spends_once(api: ApiClient) -> None:
    # Given a member who redeemed a free drink with key r-1
    member = member_with(api, 400)
    first = redeem(api, member, "free-drink", "r-1")
    assert first.status_code == 201, first.text
    after_first = snapshot(api, member)
    # When the shop retries the same request with the same key
    retry = redeem(api, member, "free-drink", "r-1")
    # Then it gets 200 with the very same body (the same coupon) and no more points are spent
    assert retry.status_code == 200, retry.text
    assert retry.json() == first.json()
    assert snapshot(api, member) == after_first
    assert api.available(member) == 250
    # And the member has exactly one coupon
    assert len(api.get(f"/api/v1/members/{member}/coupons").json()["items"]) == 1


def test_the_same_key_for_a_different_reward_is_409_and_changes_nothing(api: ApiClient) -> None:
    member = member_with(api, 700)
    assert redeem(api, member, "free-drink", "r-1").status_code == 201
    before = snapshot(api, member)
    error_of(redeem(api, member, "five-euro-off", "r-1"), 409, "idempotency_conflict")
    assert snapshot(api, member) == before


def test_another_key_is_another_redemption(api: ApiClient) -> None:
    member = member_with(api, 400)
    first, second = redeem(api, member, "free-drink", "r-1"), redeem(api, member, "free-drink", "r-2")
    assert (first.status_code, second.status_code) == (201, 201)
    assert first.json()["coupon"]["code"] != second.json()["coupon"]["code"]
    assert api.available(member) == 100


def test_a_redemption_without_an_idempotency_key_is_422_and_changes_nothing(api: ApiClient) -> None:
    member = member_with(api, 400)
    before = snapshot(api, member)
    response = api.post(f"/api/v1/members/{member}/redemptions", {"reward": "free-drink"})
    error = error_of(response, 422, "validation_error")
    assert [detail["field"] for detail in error["details"]] == ["Idempotency-Key"]
    assert snapshot(api, member) == before
    assert api.get(f"/api/v1/members/{member}/coupons").json()["items"] == []


def test_not_enough_points_is_422_insufficient_points_and_changes_nothing(api: ApiClient) -> None:
    # Given a member with 450 points
    member = member_with(api, 450)
    before = snapshot(api, member)
    # When they try to redeem 5 EUR off (500 points)
    error = error_of(redeem(api, member, "five-euro-off", "r-1"), 422, "insufficient_points")
    # Then it is refused saying what is needed and what is there, and nothing changed
    assert error["details"] == [{"reward": "five-euro-off", "points_cost": 500, "available": 450}]
    assert snapshot(api, member) == before
    assert api.get(f"/api/v1/members/{member}/coupons").json()["items"] == []
    # And the key was not used up: once they have the points, the same key redeems
    api.purchase(member, [line("MUG", "merch", "50.00")])
    assert redeem(api, member, "five-euro-off", "r-1").status_code == 201
    assert api.available(member) == 0


def test_free_shipping_for_a_bronze_member_is_422_tier_too_low(api: ApiClient) -> None:
    # Given a Bronze member with enough points for free shipping
    member = member_with(api, 300)
    before = snapshot(api, member)
    # When they redeem it, it is refused because it needs Silver, and nothing changed
    error_of(redeem(api, member, "free-shipping", "r-1"), 422, "tier_too_low")
    assert snapshot(api, member) == before


def test_free_shipping_for_a_silver_member_is_redeemed(api: ApiClient) -> None:
    # Given a member who bought 500.00 EUR of merchandise and so reached Silver
    member = member_with(api, 550)
    assert api.get(f"/api/v1/members/{member}").json()["tier"]["code"] == "silver"
    # When they redeem free shipping, it is theirs
    response = redeem(api, member, "free-shipping", "r-1")
    assert response.status_code == 201, response.text
    assert response.json()["points_spent"] == 200
    assert api.available(member) == 350


def test_an_unknown_reward_is_404_reward_not_found(api: ApiClient) -> None:
    member = member_with(api, 400)
    before = snapshot(api, member)
    error = error_of(redeem(api, member, "free-car", "r-1"), 404, "reward_not_found")
    assert error["details"] == [{"reward": "free-car"}]
    assert snapshot(api, member) == before


def test_a_redemption_for_an_unknown_member_is_404(api: ApiClient) -> None:
    error_of(redeem(api, "nobody", "free-drink", "r-1"), 404, "member_not_found")


def rewards_with(make_program: ProgramMaker, code: str, **changes: Any) -> ApiClient:
    """The demo program with reward ``code`` changed (lists are replaced whole, so copy and edit the list)."""
    rewards = copy.deepcopy(make_program.definition["rewards"])
    next(reward for reward in rewards if reward["code"] == code).update(changes)
    return make_program({"rewards": rewards})


def test_a_reward_limited_to_one_per_member_is_refused_the_second_time(make_program: ProgramMaker) -> None:
    # Given a program where each member may have one free drink, and a member with points for three
    api = rewards_with(make_program, "free-drink", limit_per_member=1)
    member = member_with(api, 450)
    assert redeem(api, member, "free-drink", "r-1").status_code == 201
    before = snapshot(api, member)
    # When they redeem it again with a new key
    error = error_of(redeem(api, member, "free-drink", "r-2"), 422, "reward_limit_reached")
    # Then it is refused and nothing changed; the catalogue says why
    assert error["details"][0]["reward"] == "free-drink"
    assert snapshot(api, member) == before
    items = api.get("/api/v1/rewards", params={"member": member}).json()["items"]
    assert [item["obstacle"] for item in items if item["code"] == "free-drink"] == ["reward_limit_reached"]
    # And another member still has their one
    assert redeem(api, member_with(api, 200), "free-drink", "r-1").status_code == 201


def test_a_reward_outside_its_availability_window_is_refused(make_program: ProgramMaker) -> None:
    api = rewards_with(make_program, "free-drink", available={"until": "2026-01-01T00:00:00+00:00"})
    member = member_with(api, 200)
    before = snapshot(api, member)
    error_of(redeem(api, member, "free-drink", "r-1"), 422, "reward_not_available")
    assert snapshot(api, member) == before


def test_a_redemption_spends_the_soonest_expiring_points_first(api: ApiClient) -> None:
    # Given a member enrolled on 10 January 2026 (50 points, expiring at the end of 10 January 2027 in Tallinn),
    # who earned 100 points on 1 March and 100 points on 1 June (expiring at the end of 1 March / 1 June 2027)
    member = api.member(enrolled_at="2026-01-10T10:00:00+00:00")
    api.purchase(member, [line("MUG", "merch", "100.00")], occurred_at="2026-06-01T10:00:00+00:00")
    api.purchase(member, [line("MUG", "merch", "100.00")], occurred_at="2026-03-01T10:00:00+00:00")
    lots = {entry["occurred_at"][:10]: entry["lot_id"] for entry in ledger_items(api, member) if entry["lot_id"]}
    # When they redeem a free drink (150 points)
    assert redeem(api, member, "free-drink", "r-1").status_code == 201
    # Then the January lot is spent whole and the March lot gives the other 100, whatever order they came in
    spent = [(entry["lot_id"], entry["points"]) for entry in ledger_items(api, member) if entry["kind"] == "spend"]
    assert sorted(spent) == sorted([(lots["2026-01-10"], -50), (lots["2026-03-01"], -100)])
    # And only the June points are left to expire
    assert api.points(member)["expiring"] == [{"points": 100, "expires_at": "2027-06-01T21:00:00+00:00"}]
    assert api.available(member) == 100


# --- validating a coupon against an order -----------------------------------------------------------------------------


def test_a_valid_coupon_gives_its_discount(api: ApiClient) -> None:
    code = coupon(api, member_with(api, 500), "five-euro-off")
    result = validate(api, code, order("25.00", line("BEANS-1", "coffee-beans", "12.50", 2)))
    assert result["valid"] is True
    assert result["discount"] == {"amount": "5.00", "currency": "EUR"}
    assert result["coupon"]["code"] == code
    assert result["coupon"]["status"] == "active"


def test_the_minimum_order_total_is_inclusive(api: ApiClient) -> None:
    code = coupon(api, member_with(api, 500), "five-euro-off")
    assert validate(api, code, order("20.00"))["discount"] == {"amount": "5.00", "currency": "EUR"}
    assert validate(api, code, order("19.99")) == {"valid": False, "reason": "order_total_too_low"}


def test_a_coupon_for_an_order_in_another_currency_is_refused(api: ApiClient) -> None:
    code = coupon(api, member_with(api, 500), "five-euro-off")
    assert validate(api, code, order("25.00", currency="USD")) == {"valid": False, "reason": "currency_mismatch"}


def test_an_unknown_coupon_is_not_valid(api: ApiClient) -> None:
    assert validate(api, "ABCDE-23456", order("25.00")) == {"valid": False, "reason": "coupon_not_found"}
    error_of(api.get("/api/v1/coupons/ABCDE-23456"), 404, "coupon_not_found")
    error_of(api.post("/api/v1/coupons/ABCDE-23456/redemptions", {"order_id": "A"}), 404, "coupon_not_found")
    error_of(api.post("/api/v1/coupons/ABCDE-23456/release", {"order_id": "A"}), 404, "coupon_not_found")


def test_a_coupon_code_is_matched_whatever_its_case_and_surrounding_spaces(api: ApiClient) -> None:
    code = coupon(api, member_with(api, 500), "five-euro-off")
    assert validate(api, f"  {code.lower()} ", order("25.00"))["valid"] is True


def test_a_coupon_expires_at_the_end_of_its_last_local_day(api: ApiClient) -> None:
    # Given a coupon redeemed on 1 July 2026, valid to the end of 31 July in Tallinn (21:00 UTC)
    member = member_with(api, 500)
    redemption = at_moment(
        api,
        JULY_1,
        "POST",
        f"/api/v1/members/{member}/redemptions",
        {"reward": "five-euro-off"},
        {"Idempotency-Key": "r"},
    )
    code = redemption.json()["coupon"]["code"]
    body = {"code": code, "order": order("25.00")}
    # When the shop validates it a second before and at the moment it expires
    last_second = at_moment(api, "2026-07-31T20:59:59+00:00", "POST", "/api/v1/coupons/validate", body).json()
    expired = at_moment(api, "2026-07-31T21:00:00+00:00", "POST", "/api/v1/coupons/validate", body).json()
    # Then it is valid up to the end and expired from then on
    assert last_second["valid"] is True
    assert expired == {"valid": False, "reason": "coupon_expired"}
    # And an expired coupon cannot be redeemed for an order; it is listed as expired
    late = at_moment(api, "2026-08-01T10:00:00+00:00", "POST", f"/api/v1/coupons/{code}/redemptions", {"order_id": "A"})
    error_of(late, 422, "coupon_expired")
    listed = at_moment(api, "2026-08-01T10:00:00+00:00", "GET", f"/api/v1/members/{member}/coupons").json()
    assert [(item["code"], item["status"]) for item in listed["items"]] == [(code, "expired")]


def test_a_free_drink_takes_off_the_price_of_one_drink(api: ApiClient) -> None:
    code = coupon(api, member_with(api, 200), "free-drink")
    drinks_and_beans = order("20.10", line("BEANS-1", "coffee-beans", "12.50"), line("DRINK-ANY", "drinks", "3.80", 2))
    assert validate(api, code, drinks_and_beans)["discount"] == {"amount": "3.80", "currency": "EUR"}
    no_drink = order("12.50", line("BEANS-1", "coffee-beans", "12.50"))
    assert validate(api, code, no_drink) == {"valid": False, "reason": "product_not_in_order"}


def test_free_shipping_takes_off_the_shipping(api: ApiClient) -> None:
    code = coupon(api, member_with(api, 550), "free-shipping")
    with_shipping = order("29.90", line("BEANS-1", "coffee-beans", "25.00"), shipping="4.90")
    assert validate(api, code, with_shipping)["discount"] == {"amount": "4.90", "currency": "EUR"}


# --- redeeming and releasing a coupon for an order --------------------------------------------------------------------


def test_a_coupon_is_used_by_one_order_and_a_retry_for_that_order_is_fine(api: ApiClient) -> None:
    # Given a member's coupon
    member = member_with(api, 500)
    code = coupon(api, member, "five-euro-off")
    # When the shop redeems it for order A, and retries
    first = api.post(f"/api/v1/coupons/{code}/redemptions", {"order_id": "A"})
    retry = api.post(f"/api/v1/coupons/{code}/redemptions", {"order_id": "A"})
    # Then the first is 201 and the retry 200 with the same coupon state
    assert first.status_code == 201, first.text
    assert (first.json()["status"], first.json()["redeemed_by_order"]) == ("redeemed", "A")
    assert retry.status_code == 200, retry.text
    assert retry.json() == first.json()
    # And order A may still validate it, but order B may not use it
    assert validate(api, code, order("25.00", id="A"))["valid"] is True
    assert validate(api, code, order("25.00", id="B")) == {"valid": False, "reason": "coupon_already_redeemed"}
    error_of(api.post(f"/api/v1/coupons/{code}/redemptions", {"order_id": "B"}), 409, "coupon_already_redeemed")
    assert api.get(f"/api/v1/coupons/{code}").json()["redeemed_by_order"] == "A"


def test_releasing_a_coupon_after_a_cancelled_order_lets_another_order_use_it(api: ApiClient) -> None:
    # Given a coupon used by order A
    member = member_with(api, 500)
    code = coupon(api, member, "five-euro-off")
    assert api.post(f"/api/v1/coupons/{code}/redemptions", {"order_id": "A"}).status_code == 201
    # When order B tries to release it, that is refused: it is A's
    error_of(api.post(f"/api/v1/coupons/{code}/release", {"order_id": "B"}), 409, "coupon_already_redeemed")
    # When order A is cancelled and the shop releases the coupon (twice: a retry is fine)
    released = api.post(f"/api/v1/coupons/{code}/release", {"order_id": "A"})
    again = api.post(f"/api/v1/coupons/{code}/release", {"order_id": "A"})
    # Then it is active again, and order B can use it
    assert released.status_code == 200, released.text
    assert (released.json()["status"], released.json()["redeemed_by_order"]) == ("active", None)
    assert again.status_code == 200, again.text
    used_by_b = api.post(f"/api/v1/coupons/{code}/redemptions", {"order_id": "B"})
    assert used_by_b.status_code == 201, used_by_b.text
    assert used_by_b.json()["redeemed_by_order"] == "B"
    # And the points spent on the reward stayed spent
    assert api.available(member) == 0


def test_releasing_a_coupon_no_order_used_is_409_coupon_not_redeemed(api: ApiClient) -> None:
    code = coupon(api, member_with(api, 500), "five-euro-off")
    error_of(api.post(f"/api/v1/coupons/{code}/release", {"order_id": "A"}), 409, "coupon_not_redeemed")
    assert api.get(f"/api/v1/coupons/{code}").json()["status"] == "active"


def test_a_members_coupons_are_listed_newest_first_with_their_status(api: ApiClient) -> None:
    # Given a member with two coupons, the first used by an order
    member = member_with(api, 650)
    drink = coupon(api, member, "free-drink")
    five_off = coupon(api, member, "five-euro-off")
    assert api.post(f"/api/v1/coupons/{drink}/redemptions", {"order_id": "A"}).status_code == 201
    # When the shop lists the member's coupons
    response = api.get(f"/api/v1/members/{member}/coupons")
    # Then both are there, newest first, each with its status
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    assert [(item["code"], item["reward"], item["status"], item["redeemed_by_order"]) for item in items] == [
        (five_off, "five-euro-off", "active", None),
        (drink, "free-drink", "redeemed", "A"),
    ]
