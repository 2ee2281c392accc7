"""The members endpoints as integrations use them: enrol, read, update the profile, import with a past enrolment, and
page through the ledger."""

from __future__ import annotations

from datetime import datetime

from tests.factories import ApiClient, error_of, ledger_items, line, snapshot


def test_enrolling_a_member_returns_them_with_tier_points_and_the_welcome_bonus(api: ApiClient) -> None:
    # When the shop enrols a customer with a full profile
    body = {
        "external_id": "cust-1",
        "email": "ann@example.com",
        "name": "Ann Tamm",
        "birth_date": "1990-04-04",
        "language": "et",
        "marketing_consent": True,
    }
    response = api.post("/api/v1/members", body)
    # Then the member is created with that profile, active, in the entry tier
    assert response.status_code == 201, response.text
    member = response.json()
    assert {key: member[key] for key in body} == body
    assert member["status"] == "active"
    assert member["tier"]["code"] == "bronze"
    assert member["tier"]["name"] == "Pronks"  # in the member's language
    # And the welcome bonus is available at once and expires twelve months on, at the end of the local day
    enrolled_at = datetime.fromisoformat(member["enrolled_at"])
    assert member["points"]["available"] == 50
    assert member["points"]["pending"] == 0
    assert member["points"]["lifetime_earned"] == 50
    [expiring] = member["points"]["expiring"]
    assert expiring["points"] == 50
    assert datetime.fromisoformat(expiring["expires_at"]).year == enrolled_at.year + 1
    # And the response says why the member has points
    assert [(effect["type"], effect["points"], effect["rule"]) for effect in member["effects"]] == [
        ("points_earned", 50, "welcome")
    ]
    # And reading the member back shows the same
    read = api.get("/api/v1/members/cust-1")
    assert read.status_code == 200, read.text
    assert {key: read.json()[key] for key in ("external_id", "email", "tier", "points")} == {
        key: member[key] for key in ("external_id", "email", "tier", "points")
    }


def test_a_member_with_only_an_external_id_gets_empty_profile_fields(api: ApiClient) -> None:
    response = api.post("/api/v1/members", {"external_id": "cust-2"})
    assert response.status_code == 201, response.text
    member = response.json()
    assert [member[key] for key in ("email", "name", "birth_date", "language", "marketing_consent")] == [
        None,
        None,
        None,
        None,
        False,
    ]


def test_the_tier_block_shows_progress_towards_the_next_tier(api: ApiClient) -> None:
    # Given a member who bought 120.00 EUR of merchandise (120 points towards Silver at 500)
    member = api.member()
    api.purchase(member, [line("MUG", "merch", "120.00")])
    # When the member is read
    view = api.get(f"/api/v1/members/{member}").json()
    # Then they are Bronze, and Silver is 380 points away
    assert view["tier"]["code"] == "bronze"
    assert view["tier_progress"]["value"] == 120
    assert view["tier_progress"]["next_tier"] == {"code": "silver", "name": "Silver", "threshold": 500}
    assert view["tier_progress"]["needed_for_next"] == 380


def test_an_external_id_that_exists_is_409_member_exists_and_the_member_is_unchanged(api: ApiClient) -> None:
    # Given a member with a profile and points
    member = api.member("cust-1", email="ann@example.com", name="Ann")
    api.purchase(member, [line("MUG", "merch", "30.00")])
    before = snapshot(api, member)
    profile_before = api.get(f"/api/v1/members/{member}").json()
    # When the shop enrols the same external_id again with another profile
    response = api.post("/api/v1/members", {"external_id": "cust-1", "email": "bob@example.com", "name": "Bob"})
    # Then it is refused, and neither the profile nor the points changed (no second welcome bonus)
    error = error_of(response, 409, "member_exists")
    assert error["details"] == [{"external_id": "cust-1"}]
    assert snapshot(api, member) == before
    assert api.get(f"/api/v1/members/{member}").json() == profile_before


def test_an_unknown_member_is_404_member_not_found(api: ApiClient) -> None:
    error = error_of(api.get("/api/v1/members/nobody"), 404, "member_not_found")
    assert error["details"] == [{"external_id": "nobody"}]
    error_of(api.get("/api/v1/members/nobody/ledger"), 404, "member_not_found")
    error_of(api.patch("/api/v1/members/nobody", {"name": "Ann"}), 404, "member_not_found")
    error_of(api.get("/api/v1/members/nobody/coupons"), 404, "member_not_found")


def test_patch_changes_only_the_fields_given(api: ApiClient) -> None:
    # Given a member with a profile
    member = api.member(email="ann@example.com", name="Ann", language="en", birth_date="1990-04-04")
    before = snapshot(api, member)
    # When the shop changes the e-mail, the language and the consent
    response = api.patch(
        f"/api/v1/members/{member}", {"email": "ann.tamm@example.com", "language": "et", "marketing_consent": True}
    )
    # Then those change and nothing else does
    assert response.status_code == 200, response.text
    updated = api.get(f"/api/v1/members/{member}").json()
    assert (updated["email"], updated["language"], updated["marketing_consent"]) == ("ann.tamm@example.com", "et", True)
    assert (updated["name"], updated["birth_date"], updated["status"]) == ("Ann", "1990-04-04", "active")
    assert response.json()["email"] == "ann.tamm@example.com"
    assert snapshot(api, member) == before


def test_patch_with_null_clears_a_field(api: ApiClient) -> None:
    member = api.member(name="Ann", email="ann@example.com")
    response = api.patch(f"/api/v1/members/{member}", {"name": None})
    assert response.status_code == 200, response.text
    assert (response.json()["name"], response.json()["email"]) == (None, "ann@example.com")


def test_an_invalid_patch_changes_nothing(api: ApiClient) -> None:
    # Given a member
    member = api.member(email="ann@example.com", language="en")
    profile_before = api.get(f"/api/v1/members/{member}").json()
    # When a patch has a valid language but an invalid e-mail
    response = api.patch(f"/api/v1/members/{member}", {"language": "et", "email": "not an e-mail"})
    # Then it is refused as a whole, naming the field
    error = error_of(response, 422, "validation_error")
    assert [detail["field"] for detail in error["details"]] == ["email"]
    assert api.get(f"/api/v1/members/{member}").json() == profile_before


def test_an_imported_member_keeps_their_past_enrolment_and_their_bonus_dates_from_it(api: ApiClient) -> None:
    # When the shop imports a customer who joined on 1 December 2025 (in Tallinn: 11:00)
    response = api.post("/api/v1/members", {"external_id": "old-1", "enrolled_at": "2025-12-01T09:00:00+00:00"})
    # Then the member keeps that enrolment time, and the tier is held since then
    assert response.status_code == 201, response.text
    member = response.json()
    assert member["enrolled_at"] == "2025-12-01T09:00:00+00:00"
    assert member["tier"]["since"] == "2025-12-01T09:00:00+00:00"
    # And the welcome bonus was earned then: it expires at the end of 1 December 2026 in Tallinn (22:00 UTC)
    assert member["points"]["expiring"] == [{"points": 50, "expires_at": "2026-12-01T22:00:00+00:00"}]
    [entry] = ledger_items(api, "old-1")
    assert (entry["kind"], entry["points"], entry["occurred_at"]) == ("earn", 50, "2025-12-01T09:00:00+00:00")


def test_an_enrolment_time_with_an_offset_is_kept_as_the_same_instant(api: ApiClient) -> None:
    response = api.post("/api/v1/members", {"external_id": "old-2", "enrolled_at": "2026-02-01T02:30:00+02:00"})
    assert response.status_code == 201, response.text
    instant = datetime.fromisoformat("2026-02-01T00:30:00+00:00")
    assert datetime.fromisoformat(response.json()["enrolled_at"]) == instant
    assert api.get("/api/v1/members/old-2").json()["enrolled_at"] == "2026-02-01T00:30:00+00:00"


def test_the_ledger_is_newest_first_and_paginated_by_cursor(api: ApiClient) -> None:
    # Given a member with a welcome bonus and three purchases (each a points and a tier-credit entry)
    member = api.member()
    for order, price in (("O-1", "10.00"), ("O-2", "20.00"), ("O-3", "30.00")):
        api.purchase(member, [line("MUG", "merch", price)], order_id=order)
    everything = ledger_items(api, member)
    assert len(everything) == 7
    assert [entry["id"] for entry in everything] == sorted((entry["id"] for entry in everything), reverse=True)
    assert everything[-1]["rule"] == "welcome"
    # When the ledger is read three entries at a time
    pages, cursor = [], None
    while True:
        params = {"limit": 3} if cursor is None else {"limit": 3, "before": cursor}
        page = api.get(f"/api/v1/members/{member}/ledger", params=params).json()
        pages.append(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # Then the pages hold 3, 3 and 1 entries and together are the whole ledger, in the same order
    assert [len(items) for items in pages] == [3, 3, 1]
    assert [entry for items in pages for entry in items] == everything
    # And the newest points entry is the last order's 30 points
    newest_points = next(entry for entry in everything if entry["account"] == "points")
    assert (newest_points["order_id"], newest_points["points"]) == ("O-3", 30)


def test_patch_cannot_clear_consent_or_status(api: ApiClient) -> None:
    # Given a member who gave marketing consent
    member = api.member(marketing_consent=True)
    profile_before = api.get(f"/api/v1/members/{member}").json()
    for field in ("marketing_consent", "status"):
        # When a patch sets a field that always has a value to null
        response = api.patch(f"/api/v1/members/{member}", {field: None})
        # Then it is a validation error, not a server error, and nothing changes
        error_of(response, 422, "validation_error")
        assert api.get(f"/api/v1/members/{member}").json() == profile_before


def test_an_enrolment_in_the_future_is_refused(api: ApiClient) -> None:
    response = api.post("/api/v1/members", {"external_id": "from-the-future", "enrolled_at": "2999-01-01T00:00:00Z"})
    error_of(response, 422, "occurred_in_future")
    error_of(api.get("/api/v1/members/from-the-future"), 404, "member_not_found")


def test_a_blocked_member_cannot_redeem_rewards(api: ApiClient) -> None:
    # Given a member with enough points for a free drink, then blocked by an admin
    member = api.member()
    api.post(f"/api/v1/members/{member}/adjustments", {"points": 200, "reason": "goodwill"})
    assert api.patch(f"/api/v1/members/{member}", {"status": "blocked"}).status_code == 200
    before = snapshot(api, member)
    # When the member tries to redeem
    response = api.post(
        f"/api/v1/members/{member}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": "k-1"}
    )
    # Then it is refused and no point is spent
    error_of(response, 422, "member_blocked")
    assert snapshot(api, member) == before
