"""Refunds through the HTTP API: proportional reversal, the three return policies, and the tier a refund takes back."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from tests.factories import (
    ApiClient,
    ProgramMaker,
    at_moment,
    earned,
    error_of,
    ledger_items,
    line,
    member_at,
    reversed_points,
    run_jobs,
    snapshot,
)

# The demo order: beans 2 x 12.50 (50 points) and a 9.99 mug (9 points) = 59 points; paid 34.99 + 4.90 shipping = 39.89.
BEANS_AND_MUG = [line("BEANS-1", "coffee-beans", "12.50", 2), line("MUG", "merch", "9.99")]


def redeem_free_drink(api: ApiClient, member: str, moment: str) -> None:
    """Spend 150 points on the free drink at ``moment``."""
    response = at_moment(
        api,
        moment,
        "POST",
        f"/api/v1/members/{member}/redemptions",
        {"reward": "free-drink"},
        headers={"Idempotency-Key": api.next_id("redeem")},
    )
    assert response.status_code == 201, response.text
    assert response.json()["points_spent"] == 150


def refund_body(api: ApiClient, member: str, order_id: str, **refund: Any) -> dict[str, Any]:
    return {
        "id": api.next_id("refund"),
        "type": "refund",
        "member_external_id": member,
        "occurred_at": "2026-06-10T12:00:00+00:00",
        "order_id": order_id,
        "currency": "EUR",
        **refund,
    }


def tier_changes(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [effect for effect in response["effects"] if effect["type"] == "tier_changed"]


# --- proportional reversal --------------------------------------------------------------------------------------------


def test_a_refund_by_amount_reverses_in_proportion_to_what_was_paid_including_shipping(api: ApiClient) -> None:
    # Given an order of 80.00 with 20.00 shipping that earned 80 points
    member = api.member()
    assert earned(api.purchase(member, [line("KETTLE", "brewing", "80.00")], order_id="O-1", shipping="20.00")) == 80
    # When half of the 100.00 paid is refunded
    response = api.refund(member, "O-1", amount="50.00")
    # Then half of the points come back, from the order's own lot, together with half of its tier credits
    assert response["effects"] == [
        {"type": "points_reversed", "points": 40, "order_id": "O-1", "refunded_fraction": "0.5"}
    ]
    points = api.points(member)
    assert (points["available"], points["lifetime_earned"], points["debt"]) == (90, 130, 0)
    newest = ledger_items(api, member)[:2]
    assert [(e["account"], e["kind"], e["points"], e["order_id"], e["occurred_at"]) for e in newest] == [
        ("tier_credits", "reverse", -40, "O-1", "2026-06-01T12:00:00+00:00"),
        ("points", "reverse", -40, "O-1", "2026-06-10T12:00:00+00:00"),
    ]


def test_a_refund_of_lines_reverses_what_those_lines_earned(api: ApiClient) -> None:
    # Given beans for 20.00 (40 points) and a filter for 10.00 (10 points)
    member = api.member()
    order = [line("BEANS-2", "coffee-beans", "20.00"), line("FILTER", "brewing", "10.00")]
    assert earned(api.purchase(member, order, order_id="O-1")) == 50
    # Returning the filter takes back its 10 points, returning the beans their 40
    filter_refund = api.refund(member, "O-1", refund_lines=[{"sku": "FILTER", "quantity": 1}])
    assert (reversed_points(filter_refund), filter_refund["effects"][0]["refunded_fraction"]) == (10, "0.2")
    beans_refund = api.refund(member, "O-1", refund_lines=[{"sku": "BEANS-2", "quantity": 1}])
    assert (reversed_points(beans_refund), beans_refund["effects"][0]["refunded_fraction"]) == (40, "1")
    assert api.available(member) == 50


def test_a_refunded_gift_card_takes_back_nothing_because_it_earned_nothing(api: ApiClient) -> None:
    member = api.member()
    assert (
        earned(
            api.purchase(
                member, [line("GIFT-50", "gift-cards", "50.00"), line("MUG", "merch", "10.00")], order_id="O-1"
            )
        )
        == 10
    )
    before = snapshot(api, member)
    gift_card = api.refund(member, "O-1", refund_lines=[{"sku": "GIFT-50", "quantity": 1}])
    assert reversed_points(gift_card) == 0
    assert snapshot(api, member) == before
    mug = api.refund(member, "O-1", refund_lines=[{"sku": "MUG", "quantity": 1}])
    assert reversed_points(mug) == 10
    assert api.available(member) == 50


@pytest.mark.parametrize(
    ("refunds", "reversals"),
    [
        pytest.param([{"amount": "39.89"}], [59], id="all-at-once"),
        pytest.param([{"amount": "13.30"}, {"amount": "13.30"}, {"amount": "13.29"}], [19, 20, 20], id="thirds"),
        pytest.param([{"amount": "5.00"}] * 3 + [{"amount": "24.89"}], [7, 7, 8, 37], id="uneven-amounts"),
        pytest.param(
            [
                {"refund_lines": [{"sku": "BEANS-1", "quantity": 1}]},
                {"refund_lines": [{"sku": "MUG", "quantity": 1}]},
                {"refund_lines": [{"sku": "BEANS-1", "quantity": 1}]},
            ],
            [24, 10, 25],
            id="line-by-line",
        ),
        pytest.param(
            [{"refund_lines": [{"sku": "MUG", "quantity": 1}]}, {"amount": "29.90"}], [9, 50], id="line-then-amount"
        ),
    ],
)
def test_refunding_a_whole_order_in_parts_reverses_exactly_what_it_earned_and_never_more(
    api: ApiClient, refunds: list[dict[str, Any]], reversals: list[int]
) -> None:
    member = api.member()
    assert earned(api.purchase(member, BEANS_AND_MUG, order_id="O-1", shipping="4.90")) == 59
    taken = [reversed_points(api.refund(member, "O-1", **refund)) for refund in refunds]
    assert taken == reversals
    assert sum(taken) == 59
    points = api.points(member)
    assert (points["available"], points["debt"]) == (50, 0)
    # The order's tier credits are all gone too
    assert member_at(api, member, "2026-06-11T00:00:00+00:00")["tier_progress"]["value"] == 0


def test_refunding_the_shipping_after_every_line_takes_back_nothing_more(api: ApiClient) -> None:
    member = api.member()
    api.purchase(member, BEANS_AND_MUG, order_id="O-1", shipping="4.90")
    lines = api.refund(member, "O-1", refund_lines=[{"sku": "BEANS-1", "quantity": 2}, {"sku": "MUG", "quantity": 1}])
    assert reversed_points(lines) == 59
    before = snapshot(api, member)
    shipping = api.refund(member, "O-1", amount="4.90")
    assert shipping["effects"] == [
        {"type": "points_reversed", "points": 0, "order_id": "O-1", "refunded_fraction": "1"}
    ]
    assert snapshot(api, member) == before
    # Now the whole 39.89 is refunded: not a cent more
    error_of(api.post("/api/v1/events", refund_body(api, member, "O-1", amount="0.01")), 422, "refund_exceeds_order")
    assert snapshot(api, member) == before


def test_a_line_refund_after_the_whole_amount_was_refunded_exceeds_the_order(api: ApiClient) -> None:
    member = api.member()
    api.purchase(member, BEANS_AND_MUG, order_id="O-1", shipping="4.90")
    assert reversed_points(api.refund(member, "O-1", amount="39.89")) == 59
    before = snapshot(api, member)
    response = api.post("/api/v1/events", refund_body(api, member, "O-1", refund_lines=[{"sku": "MUG", "quantity": 1}]))
    error_of(response, 422, "refund_exceeds_order")
    assert snapshot(api, member) == before


# --- rejected refunds -------------------------------------------------------------------------------------------------


def test_a_refund_of_more_than_the_order_is_refund_exceeds_order(api: ApiClient) -> None:
    member = api.member()
    api.purchase(member, BEANS_AND_MUG, order_id="O-1", shipping="4.90")
    before = snapshot(api, member)
    too_much = api.post("/api/v1/events", refund_body(api, member, "O-1", amount="39.90"))
    assert error_of(too_much, 422, "refund_exceeds_order")["details"] == [{"refundable": "39.89"}]
    too_many = api.post(
        "/api/v1/events", refund_body(api, member, "O-1", refund_lines=[{"sku": "BEANS-1", "quantity": 3}])
    )
    error_of(too_many, 422, "refund_exceeds_order")
    not_bought = api.post(
        "/api/v1/events", refund_body(api, member, "O-1", refund_lines=[{"sku": "TEA", "quantity": 1}])
    )
    error_of(not_bought, 422, "refund_exceeds_order")
    assert snapshot(api, member) == before
    # After a refund of 30.00, only 9.89 is left to refund
    assert reversed_points(api.refund(member, "O-1", amount="30.00")) == 44
    after = snapshot(api, member)
    rest = api.post("/api/v1/events", refund_body(api, member, "O-1", amount="10.00"))
    assert error_of(rest, 422, "refund_exceeds_order")["details"] == [{"refundable": "9.89"}]
    assert snapshot(api, member) == after


def test_a_refund_of_an_unknown_order_is_order_not_found(api: ApiClient) -> None:
    member = api.member()
    api.purchase(member, BEANS_AND_MUG, order_id="O-1")
    before = snapshot(api, member)
    response = api.post("/api/v1/events", refund_body(api, member, "O-404", amount="1.00"))
    assert error_of(response, 404, "order_not_found")["details"] == [{"order_id": "O-404"}]
    assert snapshot(api, member) == before


def test_a_refund_of_another_members_order_is_refused(api: ApiClient) -> None:
    buyer, other = api.member(), api.member()
    api.purchase(buyer, BEANS_AND_MUG, order_id="O-1")
    buyer_before, other_before = snapshot(api, buyer), snapshot(api, other)
    response = api.post("/api/v1/events", refund_body(api, other, "O-1", amount="10.00"))
    error_of(response, 422, "order_of_another_member")
    assert (snapshot(api, buyer), snapshot(api, other)) == (buyer_before, other_before)


# --- return policies --------------------------------------------------------------------------------------------------


def test_unlimited_return_policy_takes_the_balance_into_debt_that_later_earnings_pay_first(api: ApiClient) -> None:
    # Given a member who spent the 150 points an order (100) and the welcome bonus (50) gave them
    member = api.member()
    api.purchase(member, [line("KETTLE", "brewing", "100.00")], order_id="O-1")
    redeem_free_drink(api, member, "2026-06-02T12:00:00+00:00")
    assert api.available(member) == 0
    # When the order is refunded, all 100 points are taken back: the balance goes to -100, a debt of 100
    refund = api.refund(member, "O-1", amount="100.00")
    assert refund["effects"] == [
        {"type": "points_reversed", "points": 100, "order_id": "O-1", "refunded_fraction": "1"}
    ]
    assert refund["balance"] == {"available": -100, "pending": 0}
    points = api.points(member)
    assert (points["available"], points["debt"]) == (-100, 100)
    # Then the next 30 points pay the debt first
    assert earned(api.purchase(member, [line("MUG", "merch", "30.00")], occurred_at="2026-06-15T12:00:00+00:00")) == 30
    points = api.points(member)
    assert (points["available"], points["debt"]) == (-70, 70)
    # And once the debt is paid the member has points again
    api.purchase(member, [line("GRINDER", "brewing", "100.00")], occurred_at="2026-06-20T12:00:00+00:00")
    points = api.points(member)
    assert (points["available"], points["debt"], points["lifetime_earned"]) == (30, 0, 280)
    repaid = [e["points"] for e in ledger_items(api, member) if e["kind"] == "repay_debt" and e["lot_id"] is None]
    assert sorted(repaid) == [30, 70]


def test_within_balance_return_policy_takes_back_no_more_than_the_member_has(make_program: ProgramMaker) -> None:
    api = make_program({"points": {"return_policy": "within_balance"}})
    member = api.member()
    api.purchase(member, [line("KETTLE", "brewing", "100.00")], order_id="O-1")
    redeem_free_drink(api, member, "2026-06-02T12:00:00+00:00")
    api.purchase(member, [line("MUG", "merch", "30.00")], occurred_at="2026-06-05T12:00:00+00:00")
    assert api.available(member) == 30
    # Refunding the 100-point order takes the 30 the member has and forgives the other 70
    refund = api.refund(member, "O-1", amount="100.00")
    assert refund["effects"] == [
        {"type": "points_reversed", "points": 30, "order_id": "O-1", "refunded_fraction": "1", "not_taken_back": 70}
    ]
    points = api.points(member)
    assert (points["available"], points["debt"]) == (0, 0)
    # Later earnings are the member's own: there is no debt to pay
    api.purchase(member, [line("FILTER", "brewing", "20.00")], occurred_at="2026-06-15T12:00:00+00:00")
    assert api.available(member) == 20


def test_only_pending_return_policy_takes_back_only_points_still_in_the_return_window(
    make_program: ProgramMaker,
) -> None:
    api = make_program({"points": {"return_policy": "only_pending", "pending_days": 14}})
    member = api.member()
    # The order's 100 points are pending through 14 June (Tallinn); the welcome bonus is available at once
    purchase = api.purchase(member, [line("KETTLE", "brewing", "100.00")], order_id="O-1")
    assert purchase["effects"][0]["pending_until"] == "2026-06-14T21:00:00+00:00"
    assert purchase["balance"] == {"available": 50, "pending": 100}
    # A refund inside the window takes back pending points and leaves available ones alone
    inside = api.refund(member, "O-1", amount="50.00", occurred_at="2026-06-05T12:00:00+00:00")
    assert reversed_points(inside) == 50
    assert inside["balance"] == {"available": 50, "pending": 50}
    # After the window the rest has become available and a refund takes nothing back
    after = api.refund(member, "O-1", amount="50.00", occurred_at="2026-06-20T12:00:00+00:00")
    assert after["effects"] == [
        {"type": "points_reversed", "points": 0, "order_id": "O-1", "refunded_fraction": "1", "not_taken_back": 50}
    ]
    points = api.points(member)
    assert (points["available"], points["pending"], points["debt"]) == (100, 0, 0)


# --- tiers ------------------------------------------------------------------------------------------------------------


def test_a_refund_of_the_order_that_caused_an_upgrade_drops_the_tier_at_once(api: ApiClient) -> None:
    member = api.member(enrolled_at="2026-01-01T10:00:00+00:00")
    api.purchase(member, [line("GRINDER", "brewing", "450.00")], occurred_at="2026-03-01T10:00:00+00:00")
    upgrade = api.purchase(
        member, [line("KETTLE", "brewing", "100.00")], order_id="O-B", occurred_at="2026-04-01T10:00:00+00:00"
    )
    assert tier_changes(upgrade) == [{"type": "tier_changed", "from": "bronze", "to": "silver", "reason": "upgrade"}]
    # A partial refund that leaves 510 credits keeps Silver
    partial = api.refund(member, "O-B", amount="40.00", occurred_at="2026-04-05T10:00:00+00:00")
    assert (reversed_points(partial), tier_changes(partial)) == (40, [])
    # Refunding the rest leaves 450: the upgrade is undone at once, no grace
    rest = api.refund(member, "O-B", amount="60.00", occurred_at="2026-04-10T10:00:00+00:00")
    assert reversed_points(rest) == 60
    assert tier_changes(rest) == [{"type": "tier_changed", "from": "silver", "to": "bronze", "reason": "refund"}]
    view = member_at(api, member, "2026-04-11T00:00:00+00:00")
    assert view["tier"]["code"] == "bronze"
    assert (view["tier_progress"]["value"], view["tier_progress"]["needed_for_next"]) == (450, 50)


def test_a_refund_does_not_take_away_a_tier_earned_before_the_order_it_waits_for_review(
    api: ApiClient, engine: Engine
) -> None:
    # Silver was earned in May 2025; an order in April 2026 (125 points at x1.25) is refunded in May 2026,
    # when the May 2025 order has left the rolling window
    member = api.member(enrolled_at="2025-04-01T10:00:00+00:00")
    api.purchase(member, [line("GRINDER", "brewing", "600.00")], occurred_at="2025-05-01T10:00:00+00:00")
    assert (
        earned(
            api.purchase(
                member, [line("KETTLE", "brewing", "100.00")], order_id="O-B", occurred_at="2026-04-01T10:00:00+00:00"
            )
        )
        == 125
    )
    refund = api.refund(member, "O-B", amount="100.00", occurred_at="2026-05-10T10:00:00+00:00")
    assert (reversed_points(refund), tier_changes(refund)) == (125, [])
    view = member_at(api, member, "2026-05-10T11:00:00+00:00")
    assert view["tier"]["code"] == "silver"
    assert (view["tier_progress"]["value"], view["tier_progress"]["needed_to_keep"]) == (0, 500)
    # The review starts the 30 days of grace; only after them is the member Bronze
    run_jobs(api, engine, "2026-05-10T12:00:00+00:00")
    view = member_at(api, member, "2026-05-10T13:00:00+00:00")
    assert (view["tier"]["code"], view["tier_progress"]["grace_until"]) == ("silver", "2026-06-09T12:00:00+00:00")
    run_jobs(api, engine, "2026-06-09T12:00:00+00:00")
    assert member_at(api, member, "2026-06-09T13:00:00+00:00")["tier"]["code"] == "bronze"
