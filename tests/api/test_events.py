"""Events through the HTTP API: what purchases, enrolment and custom events earn, and that each is processed once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from tests.factories import ApiClient, earned, error_of, ledger_items, line, member_at, run_jobs, snapshot

BEANS_AND_MUG = [line("BEANS-1", "coffee-beans", "12.50", 2), line("MUG", "merch", "9.99")]


def rules_of(response: dict[str, Any]) -> list[tuple[str, int, str | None]]:
    """Each effect as (type, points, rule): what was given and which rule gave it."""
    return [(effect["type"], effect.get("points", 0), effect.get("rule")) for effect in response["effects"]]


def purchase_body(api: ApiClient, member: str, **fields: Any) -> dict[str, Any]:
    return {
        "id": api.next_id("evt"),
        "type": "purchase",
        "member_external_id": member,
        "occurred_at": "2026-06-01T12:00:00+00:00",
        "order_id": api.next_id("order"),
        "currency": "EUR",
        "lines": BEANS_AND_MUG,
        "shipping": "4.90",
        **fields,
    }


def custom_event(api: ApiClient, member: str, event_type: str, occurred_at: str) -> dict[str, Any]:
    body = {
        "id": api.next_id(event_type),
        "type": event_type,
        "member_external_id": member,
        "occurred_at": occurred_at,
        "attributes": {"product": "BEANS-1", "stars": 5},
    }
    response = api.post("/api/v1/events", body)
    assert response.status_code == 201, response.text
    return dict(response.json())


# --- earning ----------------------------------------------------------------------------------------------------------


def test_a_purchase_earns_per_rule_and_each_effect_names_the_rule_that_gave_it(api: ApiClient) -> None:
    # Given a new member (50 welcome points)
    member = api.member()
    # When they buy 2 x 12.50 of coffee beans (2 pt/EUR), a 9.99 mug (1 pt/EUR) and pay 4.90 shipping (nothing)
    response = api.purchase(member, BEANS_AND_MUG, order_id="O-1", shipping="4.90")
    # Then they earn 50 + 9.99 = 59.99, rounded down once: 59, and every effect says which rule produced it
    assert rules_of(response) == [("points_earned", 50, "coffee-beans"), ("points_earned", 9, "everything-else")]
    assert [effect["rule_name"] for effect in response["effects"]] == [
        "2 points per € on coffee beans",
        "1 point per €",
    ]
    assert earned(response) == 59
    assert response["balance"] == {"available": 109, "pending": 0}
    points = api.points(member)
    assert (points["available"], points["pending"], points["lifetime_earned"], points["debt"]) == (109, 0, 109, 0)
    # And the ledger holds one entry per rule for the order, plus the order's tier credits
    newest = ledger_items(api, member)[:3]
    assert [(e["account"], e["kind"], e["points"], e["rule"], e["order_id"]) for e in newest] == [
        ("tier_credits", "earn", 59, None, "O-1"),
        ("points", "earn", 9, "everything-else", "O-1"),
        ("points", "earn", 50, "coffee-beans", "O-1"),
    ]


def test_shipping_and_gift_cards_earn_nothing(api: ApiClient) -> None:
    member = api.member()
    before = snapshot(api, member)
    # A gift card with shipping earns nothing and writes nothing
    only_gift_card = api.purchase(member, [line("GIFT-50", "gift-cards", "50.00")], shipping="5.00")
    assert only_gift_card["effects"] == []
    assert snapshot(api, member) == before
    # In a mixed order only the other lines earn
    mixed = api.purchase(member, [line("GIFT-25", "gift-cards", "25.00"), line("FILTER", "brewing", "10.50")])
    assert rules_of(mixed) == [("points_earned", 10, "everything-else")]
    assert api.available(member) == 60


def test_enrolment_gives_the_welcome_bonus(api: ApiClient) -> None:
    response = api.post("/api/v1/members", {"external_id": "ann", "email": "ann@example.com"})
    assert response.status_code == 201, response.text
    body = response.json()
    assert rules_of(body) == [("points_earned", 50, "welcome")]
    assert body["points"]["available"] == 50
    assert body["tier"]["code"] == "bronze"
    assert [(e["account"], e["kind"], e["points"], e["rule"]) for e in ledger_items(api, "ann")] == [
        ("points", "earn", 50, "welcome")
    ]


def test_a_review_earns_25_points_at_most_three_times_a_calendar_month_in_tallinn(api: ApiClient) -> None:
    member = api.member()
    # Three reviews in June earn 25 each
    for day in ("05", "12", "19"):
        response = custom_event(api, member, "review_submitted", f"2026-06-{day}T09:00:00+00:00")
        assert rules_of(response) == [("points_earned", 25, "review")]
    assert api.available(member) == 125
    # The fourth, at 23:59 on 30 June in Tallinn (20:59 UTC), earns nothing and writes nothing
    before = snapshot(api, member)
    fourth = custom_event(api, member, "review_submitted", "2026-06-30T20:59:00+00:00")
    assert fourth["effects"] == []
    assert snapshot(api, member) == before
    # At 00:00 on 1 July in Tallinn it is still June in UTC, but a new month for the program: it earns again
    july = custom_event(api, member, "review_submitted", "2026-06-30T21:00:00+00:00")
    assert rules_of(july) == [("points_earned", 25, "review")]
    assert api.available(member) == 150


def test_a_custom_event_that_no_rule_handles_gives_no_effects(api: ApiClient) -> None:
    member = api.member()
    before = snapshot(api, member)
    response = custom_event(api, member, "newsletter_opened", "2026-06-01T12:00:00+00:00")
    assert response["effects"] == []
    assert response["balance"] == {"available": 50, "pending": 0}
    assert snapshot(api, member) == before


# --- exactly once -----------------------------------------------------------------------------------------------------


def test_a_replayed_event_returns_the_first_response_and_changes_nothing(api: ApiClient) -> None:
    member = api.member()
    body = purchase_body(api, member)
    first = api.post("/api/v1/events", body)
    assert first.status_code == 201, first.text
    api.purchase(member, [line("MUG", "merch", "20.00")])  # the member's balance moves on
    after = snapshot(api, member)
    assert after[0]["available"] == 129
    # The retry gets 200 and the very body of the first response (the balance as it was then)
    replay = api.post("/api/v1/events", body)
    assert replay.status_code == 200, replay.text
    assert replay.json() == first.json()
    assert replay.json()["balance"] == {"available": 109, "pending": 0}
    assert snapshot(api, member) == after


def test_the_same_event_id_with_another_body_is_an_idempotency_conflict(api: ApiClient) -> None:
    member = api.member()
    body = purchase_body(api, member)
    first = api.post("/api/v1/events", body)
    assert first.status_code == 201, first.text
    before = snapshot(api, member)
    changed = {**body, "lines": [line("BEANS-1", "coffee-beans", "12.50", 3)]}
    error = error_of(api.post("/api/v1/events", changed), 409, "idempotency_conflict")
    assert error["details"] == [{"event_id": body["id"]}]
    assert snapshot(api, member) == before
    # The original body still replays
    replay = api.post("/api/v1/events", body)
    assert (replay.status_code, replay.json()) == (200, first.json())


# --- rejections change nothing ----------------------------------------------------------------------------------------


def test_an_event_for_an_unknown_member_is_member_not_found(api: ApiClient) -> None:
    body = purchase_body(api, "nobody")
    error = error_of(api.post("/api/v1/events", body), 404, "member_not_found")
    assert error["details"] == [{"external_id": "nobody"}]
    # Nothing was kept: once the member exists, the same event id is processed for the first time
    api.member("nobody")
    response = api.post("/api/v1/events", body)
    assert response.status_code == 201, response.text
    assert earned(response.json()) == 59


def test_an_event_in_another_currency_is_currency_mismatch(api: ApiClient) -> None:
    member = api.member()
    before = snapshot(api, member)
    body = purchase_body(api, member, currency="USD")
    error = error_of(api.post("/api/v1/events", body), 422, "currency_mismatch")
    assert error["details"] == [{"expected": "EUR", "given": "USD"}]
    assert snapshot(api, member) == before
    # The id was not used up: the corrected event goes through
    response = api.post("/api/v1/events", {**body, "currency": "EUR"})
    assert response.status_code == 201, response.text


def test_a_second_purchase_event_for_a_recorded_order_is_order_already_recorded(api: ApiClient) -> None:
    member = api.member()
    api.purchase(member, BEANS_AND_MUG, order_id="O-1")
    before = snapshot(api, member)
    error = error_of(
        api.post("/api/v1/events", purchase_body(api, member, order_id="O-1")), 409, "order_already_recorded"
    )
    assert error["details"] == [{"order_id": "O-1"}]
    assert snapshot(api, member) == before


def test_a_blocked_member_gets_member_blocked_until_unblocked(api: ApiClient) -> None:
    member = api.member()
    # Only an admin key may block
    refused = api.as_integration().patch(f"/api/v1/members/{member}", {"status": "blocked"})
    error_of(refused, 403, "forbidden")
    blocked = api.patch(f"/api/v1/members/{member}", {"status": "blocked"})
    assert blocked.status_code == 200, blocked.text
    assert blocked.json()["status"] == "blocked"
    before = snapshot(api, member)
    body = purchase_body(api, member)
    error_of(api.post("/api/v1/events", body), 422, "member_blocked")
    error_of(
        api.post(
            "/api/v1/events",
            {
                "id": "r-1",
                "type": "review_submitted",
                "member_external_id": member,
                "occurred_at": "2026-06-01T12:00:00+00:00",
            },
        ),
        422,
        "member_blocked",
    )
    assert snapshot(api, member) == before
    # Unblocked, the same event is processed
    assert api.patch(f"/api/v1/members/{member}", {"status": "active"}).status_code == 200
    response = api.post("/api/v1/events", body)
    assert response.status_code == 201, response.text
    assert api.available(member) == 109


# --- history: occurred_at in the past ---------------------------------------------------------------------------------


def test_points_of_an_imported_past_purchase_expire_twelve_months_after_it(api: ApiClient, engine: Engine) -> None:
    # Given a member enrolled on 10 January 2025 and an order imported with its original time, 15 March 2025
    member = api.member(enrolled_at="2025-01-10T10:00:00+00:00")
    response = api.purchase(member, [line("GRINDER", "brewing", "100.00")], occurred_at="2025-03-15T10:00:00+00:00")
    assert earned(response) == 100
    # Then the points expire at the end of 15 March 2026 in Tallinn (22:00 UTC), not 12 months after the import
    assert member_at(api, member, "2025-04-01T00:00:00+00:00")["points"]["expiring"] == [
        {"points": 50, "expires_at": "2026-01-10T22:00:00+00:00"},
        {"points": 100, "expires_at": "2026-03-15T22:00:00+00:00"},
    ]
    run_jobs(api, engine, "2026-03-15T21:59:59+00:00")
    assert api.available(member) == 100  # only the welcome points are gone
    run_jobs(api, engine, "2026-03-15T22:00:00+00:00")
    assert api.available(member) == 0
    expiry = ledger_items(api, member)[0]
    assert (expiry["kind"], expiry["points"], expiry["occurred_at"]) == ("expire", -100, "2026-03-15T22:00:00+00:00")


def test_an_imported_past_purchase_counts_for_tiers_as_of_its_time(api: ApiClient) -> None:
    member = api.member(enrolled_at="2025-01-10T10:00:00+00:00")
    # 600 purchase points on 15 March 2025 made the member Silver then
    first = api.purchase(member, [line("GRINDER", "brewing", "600.00")], occurred_at="2025-03-15T10:00:00+00:00")
    assert [e for e in first["effects"] if e["type"] == "tier_changed"] == [
        {"type": "tier_changed", "from": "bronze", "to": "silver", "reason": "upgrade"}
    ]
    view = member_at(api, member, "2025-04-01T00:00:00+00:00")
    assert (view["tier"]["code"], view["tier"]["since"]) == ("silver", "2025-03-15T10:00:00+00:00")
    assert (view["tier_progress"]["value"], view["tier_progress"]["needed_for_next"]) == (600, 900)
    # So the next imported order, on 1 April 2025, earns with the Silver multiplier (100 x 1.25)
    second = api.purchase(member, [line("MUG", "merch", "100.00")], occurred_at="2025-04-01T10:00:00+00:00")
    assert rules_of(second) == [("points_earned", 100, "everything-else"), ("points_earned", 25, "tier-multiplier")]
    # And each order leaves the rolling 12-month window a year after it was placed
    progress = member_at(api, member, "2026-03-20T12:00:00+00:00")["tier_progress"]
    assert (progress["value"], progress["needed_to_keep"]) == (125, 375)
    assert member_at(api, member, "2026-04-02T12:00:00+00:00")["tier_progress"]["value"] == 0
