"""The history's grouping, pure: one line per thing that happened, however many lots and accounts the ledger used."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from punchcard.portal.history import Movement, movements

AT = datetime.fromisoformat("2026-06-01T12:00:00+00:00")
RULES = {"coffee-beans": "2 points per € on coffee beans", "tier-multiplier": "Tier bonus"}
NAMES = {"redemption:7": "A free drink", "donation:baltic-sea": "Läänemere Sihtasutus"}


@dataclass
class Entry:
    id: int
    account: str
    kind: str
    amount: int
    occurred_at: datetime = AT
    event_id: int | None = None
    order_id: str | None = None
    rule_code: str | None = None
    operation: str | None = None
    description: str = ""


def said(entries: list[Entry]) -> list[tuple[str, int, int | None, dict[str, str]]]:
    found: list[Movement] = movements(entries, RULES, NAMES)
    return [(movement.message, movement.count, movement.change, movement.params) for movement in found]


def test_an_order_earns_one_line_per_rule_and_its_tier_credit_is_not_shown() -> None:
    entries = [
        Entry(3, "tier_credits", "earn", 74, event_id=1, order_id="O-1"),
        Entry(2, "points", "earn", 15, event_id=1, order_id="O-1", rule_code="tier-multiplier"),
        Entry(1, "points", "earn", 59, event_id=1, order_id="O-1", rule_code="coffee-beans"),
    ]
    assert said(entries) == [
        ("history.earn_order", 15, 15, {"order": "O-1", "rule": "Tier bonus"}),
        ("history.earn_order", 59, 59, {"order": "O-1", "rule": "2 points per € on coffee beans"}),
    ]


def test_a_spend_across_three_lots_is_one_line_naming_the_reward() -> None:
    entries = [Entry(i, "points", "spend", -50, operation="redemption:7", description="Redeemed") for i in (9, 8, 7)]
    assert said(entries) == [("history.spend", 150, -150, {"reward": "A free drink"})]


def test_vesting_is_one_line_about_the_points_that_became_available() -> None:
    entries = [Entry(6, "points", "vest", 40), Entry(5, "pending_points", "vest", -40)]
    assert said(entries) == [("history.vest", 40, 40, {})]


def test_pending_earnings_and_their_reversal_say_pending() -> None:
    entries = [
        Entry(5, "pending_points", "reverse", -20, event_id=2, order_id="O-2"),
        Entry(4, "pending_points", "earn", 20, event_id=1, order_id="O-2", rule_code="coffee-beans"),
    ]
    assert [(message, change) for message, _, change, _ in said(entries)] == [
        ("history.reverse_pending", -20),
        ("history.earn_pending_order", 20),
    ]


def test_a_refund_taken_from_lots_and_as_debt_is_one_line() -> None:
    entries = [
        Entry(12, "points", "reverse", -30, event_id=4, order_id="O-3"),  # the debt part: no lot
        Entry(11, "points", "reverse", -29, event_id=4, order_id="O-3"),
    ]
    assert said(entries) == [("history.reverse", 59, -59, {"order": "O-3"})]


def test_repaying_a_debt_moves_no_points_and_says_how_many_went_to_it() -> None:
    entries = [Entry(21, "points", "repay_debt", 30), Entry(20, "points", "repay_debt", -30)]
    assert said(entries) == [("history.repay", 30, None, {})]


def test_adjustments_show_the_reason_and_their_direction() -> None:
    entries = [
        Entry(31, "points", "adjust", -5, operation="adjustment:b", description="Adjustment: Double booking"),
        Entry(30, "points", "adjust", 10, operation="adjustment:a", description="Adjustment: Late parcel"),
    ]
    assert said(entries) == [
        ("history.adjust_removed", 5, -5, {"reason": "Double booking"}),
        ("history.adjust_added", 10, 10, {"reason": "Late parcel"}),
    ]


def test_a_rule_since_removed_from_the_program_is_named_by_the_entry() -> None:
    entries = [Entry(1, "points", "earn", 25, event_id=9, rule_code="review", description="Thanks: 25 points")]
    assert said(entries) == [("history.earn", 25, 25, {"rule": "Thanks: 25 points"})]


def test_a_donation_names_the_cause_in_the_members_language_and_falls_back_to_the_entry() -> None:
    given = [
        Entry(i, "points", "donate", -75, operation="donation:baltic-sea", description="Donated to B") for i in (2, 1)
    ]
    gone = [Entry(3, "points", "donate", -10, operation="donation:closed", description="Donated to Old Cause")]
    assert said(gone + given) == [
        ("history.donate", 10, -10, {"cause": "Old Cause"}),
        ("history.donate", 150, -150, {"cause": "Läänemere Sihtasutus"}),
    ]


def test_a_conversion_to_store_credit_says_so() -> None:
    assert said([Entry(1, "points", "convert", -500, operation="conversion:1")]) == [("history.convert", 500, -500, {})]


def test_points_moved_between_brands_of_a_coalition_name_the_other_brand() -> None:
    entries = [
        Entry(2, "points", "exchange", 200, operation="coalition:8", description="Moved from Bean There"),
        Entry(1, "points", "exchange", -60, operation="coalition:7", description="Moved to Leaf & Cup"),
    ]
    assert said(entries) == [
        ("history.exchange_in", 200, 200, {"brand": "Bean There"}),
        ("history.exchange_out", 60, -60, {"brand": "Leaf & Cup"}),
    ]
