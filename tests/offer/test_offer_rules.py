"""The pure rules of member-only offers, without a database: who is in a segment, who an offer is for, and when it
opens for whom (early access counted back from the start)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from punchcard.i18n.text import Text
from punchcard.offer.domain import (
    Audience,
    Behaviour,
    EarlyAccess,
    HasAttribute,
    Locked,
    NoOrderWithin,
    Offer,
    OrderedAtLeast,
    PastOrder,
    Segment,
    SpentAtLeast,
    Target,
    Who,
    lookback,
    segments_of,
    standing,
)
from punchcard.rules.domain import AttributeTest, Line, LineFilter, Range

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
BEANS = Line("BEANS", "coffee-beans", Decimal(1), Decimal("12.50"))
MUG = Line("MUG", "merch", Decimal(1), Decimal("9.99"))


def order(days_ago: int, *lines: Line, total: str = "20.00") -> PastOrder:
    return PastOrder(NOW - timedelta(days=days_ago), Decimal(total), lines)


BEAN_LOVERS = Segment(
    "bean-lovers", Text("Bean lovers"), (OrderedAtLeast(4, 90, LineFilter(categories=frozenset({"coffee-beans"}))),)
)
LAPSED = Segment("lapsed", Text("Lapsed"), (NoOrderWithin(60),))
BIG_SPENDERS = Segment("big", Text("Big spenders"), (SpentAtLeast(Decimal(300)),))


def test_four_bean_orders_in_ninety_days_make_a_bean_lover_and_older_or_other_orders_do_not() -> None:
    three_recent = (order(1, BEANS), order(20, BEANS), order(89, BEANS))
    assert not BEAN_LOVERS.contains(Behaviour((*three_recent, order(91, BEANS))), NOW)
    assert not BEAN_LOVERS.contains(Behaviour((*three_recent, order(5, MUG))), NOW)
    assert BEAN_LOVERS.contains(Behaviour((*three_recent, order(5, MUG, BEANS))), NOW)


def test_no_order_in_sixty_days_includes_members_who_never_ordered() -> None:
    assert LAPSED.contains(Behaviour(()), NOW)
    assert LAPSED.contains(Behaviour((order(61, BEANS),)), NOW)
    assert not LAPSED.contains(Behaviour((order(59, BEANS),)), NOW)


def test_lifetime_spend_adds_net_totals_of_every_order() -> None:
    assert not BIG_SPENDERS.contains(Behaviour((order(400, total="150.00"), order(2, total="149.99"))), NOW)
    assert BIG_SPENDERS.contains(Behaviour((order(400, total="150.00"), order(2, total="150.00"))), NOW)


def test_every_condition_of_a_segment_must_hold() -> None:
    new_bean_lovers = Segment(
        "new", Text("New"), (*BEAN_LOVERS.conditions, HasAttribute(AttributeTest("language", equals="et")))
    )
    orders = tuple(order(day, BEANS) for day in (1, 2, 3, 4))
    assert new_bean_lovers.contains(Behaviour(orders, {"language": "et"}), NOW)
    assert not new_bean_lovers.contains(Behaviour(orders, {"language": "fi"}), NOW)
    assert segments_of((BEAN_LOVERS, LAPSED), Behaviour(orders), NOW) == {"bean-lovers"}


def test_the_orders_read_reach_as_far_back_as_the_longest_window_or_all_history() -> None:
    assert lookback((BEAN_LOVERS, LAPSED)) == 90
    assert lookback((BEAN_LOVERS, BIG_SPENDERS)) is None
    only_attributes = Segment("x", Text("X"), (HasAttribute(AttributeTest("order_count", range=Range(Decimal(1)))),))
    assert lookback((only_attributes,)) == 0


START = NOW + timedelta(hours=24)
EARLY_BEANS = Offer(
    "early-beans",
    Text("Seasonal roast"),
    Target.REWARD,
    "seasonal-beans",
    starts_at=START,
    ends_at=START + timedelta(days=30),
    early_access=EarlyAccess(frozenset({"gold"}), 48),
)


@pytest.mark.parametrize(
    ("tier", "moment", "locked"),
    [
        pytest.param("gold", START - timedelta(hours=48, seconds=1), Locked.NOT_STARTED, id="gold before its window"),
        pytest.param("gold", START - timedelta(hours=48), None, id="gold at 48 hours before the start"),
        pytest.param("silver", START - timedelta(seconds=1), Locked.NOT_STARTED, id="silver just before the start"),
        pytest.param("silver", START, None, id="silver at the start"),
        pytest.param(None, START, None, id="a member without a tier at the start"),
        pytest.param("gold", START + timedelta(days=30), Locked.ENDED, id="anyone at the end"),
    ],
)
def test_early_access_opens_an_offer_to_some_tiers_hours_before_everyone_else(
    tier: str | None, moment: datetime, locked: Locked | None
) -> None:
    assert standing(EARLY_BEANS, Who(tier, frozenset()), moment).locked is locked


def test_each_member_is_told_when_it_opens_for_them() -> None:
    assert standing(EARLY_BEANS, Who("gold", frozenset()), NOW).opens_at == START - timedelta(hours=48)
    assert standing(EARLY_BEANS, Who("silver", frozenset()), NOW).opens_at == START


def test_the_audience_comes_before_the_clock_and_a_segment_hides_the_offer() -> None:
    gold_bean_lovers = Offer(
        "gold-beans",
        Text("Gold beans"),
        Target.REWARD,
        "beans",
        audience=Audience(frozenset({"gold"}), frozenset({"bean-lovers"})),
        starts_at=START,
    )
    outsider = standing(gold_bean_lovers, Who("gold", frozenset()), NOW)
    assert (outsider.locked, outsider.listed) == (Locked.SEGMENT_REQUIRED, False)
    silver = standing(gold_bean_lovers, Who("silver", frozenset({"bean-lovers"})), NOW)
    assert (silver.locked, silver.listed) == (Locked.TIER_REQUIRED, True)  # shown: members see what Gold brings
    gold = standing(gold_bean_lovers, Who("gold", frozenset({"bean-lovers"})), NOW)
    assert gold.locked is Locked.NOT_STARTED
    assert standing(gold_bean_lovers, Who("gold", frozenset({"bean-lovers", "lapsed"})), START).available
