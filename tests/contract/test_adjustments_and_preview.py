"""Staff adjustments (goodwill and corrections, idempotent with a key) and the purchase preview, which says what an
order would earn without writing anything."""

from __future__ import annotations

from typing import Any

import httpx

from tests.factories import ApiClient, error_of, ledger_items, line, snapshot

BEANS_AND_MUG = [line("BEANS-1", "coffee-beans", "12.50", 2), line("MUG", "merch", "9.99")]


def adjust(api: ApiClient, member: str, points: int, reason: str, key: str | None = None) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key else {}
    return api.post(f"/api/v1/members/{member}/adjustments", {"points": points, "reason": reason}, headers=headers)


def preview(api: ApiClient, **fields: Any) -> httpx.Response:
    body = {"order_id": "O-1", "currency": "EUR", "lines": BEANS_AND_MUG, "shipping": "4.90", **fields}
    return api.post("/api/v1/preview", body)


def effects_of(response: dict[str, Any]) -> list[tuple[str, int, str]]:
    return [(effect["type"], effect["points"], effect["rule"]) for effect in response["effects"]]


# --- adjustments ------------------------------------------------------------------------------------------------------


def test_an_admin_gives_goodwill_points_with_a_reason(api: ApiClient) -> None:
    # Given a member with the 50 welcome points
    member = api.member()
    # When an admin adds 100 points for a late delivery
    response = adjust(api, member, 100, "Sorry for the late delivery")
    # Then the member has 150, and the ledger says why
    assert response.status_code == 201, response.text
    assert response.json() == {
        "points": 100,
        "reason": "Sorry for the late delivery",
        "balance": {"available": 150, "pending": 0},
    }
    newest = ledger_items(api, member)[0]
    assert (newest["account"], newest["kind"], newest["points"]) == ("points", "adjust", 100)
    assert newest["description"] == "Adjustment: Sorry for the late delivery"
    assert newest["lot_id"] is not None
    # And the points count as earned and will expire like earned points
    points = api.points(member)
    assert (points["available"], points["lifetime_earned"]) == (150, 150)
    assert sum(item["points"] for item in points["expiring"]) == 150


def test_an_admin_takes_points_back_as_a_correction(api: ApiClient) -> None:
    # Given a member with 50 welcome points and 100 from an order
    member = api.member()
    api.purchase(member, [line("MUG", "merch", "100.00")])
    # When an admin takes 30 back
    response = adjust(api, member, -30, "Duplicate order credited twice")
    # Then 120 are left, and the entry is a negative adjustment taken from a lot
    assert response.status_code == 201, response.text
    assert response.json()["balance"] == {"available": 120, "pending": 0}
    newest = ledger_items(api, member)[0]
    assert (newest["kind"], newest["points"], newest["description"]) == (
        "adjust",
        -30,
        "Adjustment: Duplicate order credited twice",
    )
    assert newest["lot_id"] is not None
    # And a correction does not lower what the member has earned
    assert api.points(member)["lifetime_earned"] == 150


def test_taking_back_more_than_the_balance_is_422_insufficient_points_and_changes_nothing(api: ApiClient) -> None:
    member = api.member()
    before = snapshot(api, member)
    error = error_of(adjust(api, member, -80, "Correction"), 422, "insufficient_points")
    assert error["details"] == [{"needed": 80, "available": 50}]
    assert snapshot(api, member) == before


def test_an_adjustment_needs_a_reason_and_a_non_zero_whole_number_of_points(api: ApiClient) -> None:
    member = api.member()
    before = snapshot(api, member)
    for body, field in [
        ({"points": 100}, "reason"),
        ({"points": 100, "reason": ""}, "reason"),
        ({"points": 0, "reason": "Nothing at all"}, "points"),
        ({"points": 2.5, "reason": "Half points"}, "points"),
        ({"reason": "No points"}, "points"),
    ]:
        response = api.post(f"/api/v1/members/{member}/adjustments", body)
        error = error_of(response, 422, "validation_error")
        assert [detail["field"] for detail in error["details"]] == [field], body
    assert snapshot(api, member) == before


def test_an_adjustment_for_an_unknown_member_is_404(api: ApiClient) -> None:
    error_of(adjust(api, "nobody", 100, "Goodwill"), 404, "member_not_found")


def test_a_retried_adjustment_with_the_same_idempotency_key_changes_nothing_more(api: ApiClient) -> None:
    # Given a goodwill adjustment made with a key
    member = api.member()
    first = adjust(api, member, 100, "Goodwill", key="adj-1")
    assert first.status_code == 201, first.text
    after_first = snapshot(api, member)
    # When the admin tool retries it (twice)
    retries = [adjust(api, member, 100, "Goodwill", key="adj-1") for _ in range(2)]
    # Then each retry is answered 200 as a replay and the points were added once
    for retry in retries:
        assert retry.status_code == 200, retry.text
        assert retry.json() == {**first.json(), "replayed": True}
    assert snapshot(api, member) == after_first
    assert api.available(member) == 150


def test_a_negative_adjustment_retried_with_its_key_is_taken_once(api: ApiClient) -> None:
    member = api.member()
    api.purchase(member, [line("MUG", "merch", "100.00")])
    assert adjust(api, member, -40, "Correction", key="adj-1").status_code == 201
    assert adjust(api, member, -40, "Correction", key="adj-1").status_code == 200
    assert api.available(member) == 110


def test_without_a_key_every_adjustment_counts(api: ApiClient) -> None:
    member = api.member()
    assert [adjust(api, member, 100, "Goodwill").status_code for _ in range(2)] == [201, 201]
    assert api.available(member) == 250


def test_a_key_is_per_member(api: ApiClient) -> None:
    first, second = api.member(), api.member()
    assert adjust(api, first, 100, "Goodwill", key="adj-1").status_code == 201
    assert adjust(api, second, 100, "Goodwill", key="adj-1").status_code == 201
    assert (api.available(first), api.available(second)) == (150, 150)


def test_the_same_key_for_a_different_adjustment_is_409_and_changes_nothing(api: ApiClient) -> None:
    # Given an adjustment of +100 made with key adj-1
    member = api.member()
    assert adjust(api, member, 100, "Goodwill", key="adj-1").status_code == 201
    before = snapshot(api, member)
    # When the key is reused for another amount or another reason
    other_amount = adjust(api, member, 500, "Goodwill", key="adj-1")
    other_reason = adjust(api, member, 100, "Birthday", key="adj-1")
    # Then both are refused as a conflict (never reported as done) and nothing changed
    error_of(other_amount, 409, "idempotency_conflict")
    error_of(other_reason, 409, "idempotency_conflict")
    assert snapshot(api, member) == before


def test_a_long_idempotency_key_works_like_a_short_one(api: ApiClient) -> None:
    # Keys may be up to 255 characters, e.g. a shop's own long request ids
    member = api.member()
    key = "admin-console:" + "0123456789abcdef" * 15
    assert adjust(api, member, 100, "Goodwill", key=key).status_code == 201
    assert adjust(api, member, 100, "Goodwill", key=key).status_code == 200
    assert adjust(api, member, 100, "Goodwill", key=key[:-1] + "X").status_code == 201
    assert api.available(member) == 250


# --- preview ----------------------------------------------------------------------------------------------------------


def test_a_preview_gives_the_effects_the_purchase_then_has_and_writes_nothing(api: ApiClient) -> None:
    # Given a member
    member = api.member()
    before = snapshot(api, member)
    # When the shop previews an order of 2 x 12.50 beans, a 9.99 mug and 4.90 shipping
    response = preview(api, member_external_id=member)
    # Then it would earn 50 + 9.99 -> 59 points, rule by rule
    assert response.status_code == 200, response.text
    assert response.json()["points"] == 59
    assert effects_of(response.json()) == [
        ("points_earned", 50, "coffee-beans"),
        ("points_earned", 9, "everything-else"),
    ]
    assert [effect["exact"] for effect in response.json()["effects"]] == ["50.00", "9.99"]
    # And nothing was written
    assert snapshot(api, member) == before
    # And when the order is then placed, it earns exactly what the preview said
    placed = api.purchase(member, BEANS_AND_MUG, order_id="O-1", shipping="4.90")
    assert effects_of(placed) == effects_of(response.json())


def test_a_preview_applies_the_members_tier_multiplier(api: ApiClient) -> None:
    # Given a Silver member (500 points from one order)
    member = api.member()
    api.purchase(member, [line("MUG", "merch", "500.00")])
    before = snapshot(api, member)
    # When the shop previews the same order
    response = preview(api, member_external_id=member)
    # Then the order's 59.99 points are multiplied by 1.25 and rounded down once: 74
    assert response.status_code == 200, response.text
    assert response.json()["points"] == 74
    assert effects_of(response.json())[-1] == ("points_earned", 15, "tier-multiplier")
    assert snapshot(api, member) == before
    # And the purchase earns the same
    assert effects_of(api.purchase(member, BEANS_AND_MUG, shipping="4.90")) == effects_of(response.json())


def test_a_preview_does_not_use_up_the_event_or_the_order_id(api: ApiClient) -> None:
    member = api.member()
    assert preview(api, member_external_id=member, id="evt-1").status_code == 200
    body = {
        "id": "evt-1",
        "type": "purchase",
        "member_external_id": member,
        "occurred_at": "2026-06-01T12:00:00+00:00",
        "order_id": "O-1",
        "currency": "EUR",
        "lines": BEANS_AND_MUG,
    }
    response = api.post("/api/v1/events", body)
    assert response.status_code == 201, response.text


def test_a_preview_without_a_member_uses_no_member_facts(api: ApiClient) -> None:
    # Without a member there is no tier: only the base rules apply
    response = preview(api)
    assert response.status_code == 200, response.text
    assert response.json()["points"] == 59
    assert effects_of(response.json()) == [
        ("points_earned", 50, "coffee-beans"),
        ("points_earned", 9, "everything-else"),
    ]


def test_a_preview_of_an_order_that_earns_nothing_has_no_effects(api: ApiClient) -> None:
    response = preview(api, lines=[line("GIFT-25", "gift-cards", "25.00")])
    assert response.status_code == 200, response.text
    assert response.json() == {"points": 0, "effects": []}


def test_a_preview_for_an_unknown_member_is_404(api: ApiClient) -> None:
    error_of(preview(api, member_external_id="nobody"), 404, "member_not_found")


def test_a_preview_checks_its_body_like_a_purchase(api: ApiClient) -> None:
    member = api.member()
    before = snapshot(api, member)
    bad_quantity = [{**line("BEANS-1", "coffee-beans", "12.50"), "quantity": -1}]
    error = error_of(preview(api, member_external_id=member, lines=bad_quantity), 422, "validation_error")
    assert [detail["field"] for detail in error["details"]] == ["lines.0.quantity"]
    error_of(preview(api, member_external_id=member, type="refund"), 422, "validation_error")
    error_of(preview(api, member_external_id=member, lines=[]), 422, "validation_error")
    assert snapshot(api, member) == before


def test_a_preview_in_another_currency_is_currency_mismatch(api: ApiClient) -> None:
    body = {"order_id": "x", "currency": "USD", "lines": [line("BEANS", "coffee-beans", "10.00")]}
    error = error_of(api.post("/api/v1/preview", body), 422, "currency_mismatch")
    assert error["details"] == [{"expected": "EUR", "given": "USD"}]
