"""The coalition's pure rules: which brands are in it, exchanges in whole units that never make or lose value, and the
settlement netted per pair of brands."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from punchcard.coalition.domain import (
    Brand,
    Coalition,
    CoalitionRefused,
    Flow,
    Owed,
    Reason,
    covering,
    form,
    sending,
    settle,
)
from punchcard.program.domain import CoalitionFounding, CoalitionMembership

ROASTER = Brand(1, "bean-there", "Bean There", 1)
TEA = Brand(2, "leaf-and-cup", "Leaf & Cup", 2)
BAKERY = Brand(3, "crumb", "Crumb", 5)
COALITION = Coalition("bean-and-leaf", "EUR", 1, (ROASTER, TEA, BAKERY))

rates = st.integers(min_value=1, max_value=1000)


def in_units(points: int, brand: Brand) -> Fraction:
    return Fraction(points, brand.points_per_unit)


def test_the_owner_admits_partners_that_name_the_coalition_themselves() -> None:
    founding = CoalitionFounding(unit_minor=1, partners=("leaf-and-cup", "crumb", "gone"))
    joined = [
        (ROASTER, CoalitionMembership("bean-and-leaf", 1, founding)),
        (BAKERY, CoalitionMembership("bean-and-leaf", 5)),
        (TEA, CoalitionMembership("bean-and-leaf", 2)),
        (Brand(4, "stranger", "Stranger", 1), CoalitionMembership("bean-and-leaf", 1)),  # not admitted
    ]

    coalition = form("bean-and-leaf", "EUR", ROASTER, founding, joined)

    assert [brand.slug for brand in coalition.brands] == ["bean-there", "crumb", "leaf-and-cup"]
    assert coalition.owner == ROASTER
    with pytest.raises(CoalitionRefused) as refused:
        coalition.brand("stranger")
    assert refused.value.reason is Reason.NOT_IN_COALITION


def test_sending_moves_the_whole_units_the_points_make_and_keeps_the_rest() -> None:
    exchange = sending(COALITION, TEA, BAKERY, 13)  # 6 units of tea (12 points); 1 tea point stays

    assert (exchange.units, exchange.sent, exchange.received, exchange.value_minor) == (6, 12, 30, 6)


def test_covering_moves_the_whole_units_that_pay_for_the_cost() -> None:
    exchange = covering(COALITION, ROASTER, BAKERY, 12)  # 12 bakery points are 2.4 units: 3 move, 15 arrive

    assert (exchange.units, exchange.sent, exchange.received) == (3, 3, 15)


def test_fewer_points_than_one_unit_and_moving_to_oneself_are_refused() -> None:
    with pytest.raises(CoalitionRefused) as too_few:
        sending(COALITION, BAKERY, TEA, 4)
    with pytest.raises(CoalitionRefused) as same:
        sending(COALITION, TEA, TEA, 10)

    assert (too_few.value.reason, same.value.reason) == (Reason.TOO_FEW_POINTS, Reason.SAME_BRAND)


@given(sender_rate=rates, receiver_rate=rates, points=st.integers(min_value=1, max_value=10**9), unit=rates)
def test_every_exchange_sums_to_zero_in_coalition_units(
    sender_rate: int, receiver_rate: int, points: int, unit: int
) -> None:
    sender, receiver = Brand(1, "a", "A", sender_rate), Brand(2, "b", "B", receiver_rate)
    coalition = Coalition("c", "EUR", unit, (sender, receiver))
    for exchange_of in (sending, covering):
        try:
            exchange = exchange_of(coalition, sender, receiver, points)
        except CoalitionRefused:
            assert exchange_of is sending
            assert points < sender_rate
            continue
        assert in_units(-exchange.sent, sender) + in_units(exchange.received, receiver) == 0
        assert exchange.value_minor == exchange.units * unit
        if exchange_of is sending:
            assert 0 <= points - exchange.sent < sender_rate  # what stays is less than a unit
        else:
            assert 0 <= exchange.received - points < receiver_rate  # the extra is less than a unit


def test_the_settlement_nets_each_pair_into_one_payment() -> None:
    flows = [
        Flow("bean-there", "leaf-and-cup", 3, 300, 300),
        Flow("leaf-and-cup", "bean-there", 1, 50, 50),
        Flow("crumb", "leaf-and-cup", 1, 10, 10),
        Flow("leaf-and-cup", "crumb", 1, 10, 10),  # cancels the line above: nothing owed
        Flow("crumb", "bean-there", 2, 40, 40),
    ]

    assert settle(flows) == [Owed("crumb", "bean-there", 40), Owed("bean-there", "leaf-and-cup", 250)]


@given(
    st.lists(
        st.tuples(st.sampled_from("abc"), st.sampled_from("abc"), st.integers(min_value=0, max_value=10**6)),
        max_size=30,
    )
)
def test_netting_keeps_what_each_brand_is_owed_in_all(moves: list[tuple[str, str, int]]) -> None:
    flows = [Flow(sender, receiver, 1, value, value) for sender, receiver, value in moves if sender != receiver]

    def position(brand: str, lines: list[tuple[str, str, int]]) -> int:
        return sum(value for _, to, value in lines if to == brand) - sum(value for by, _, value in lines if by == brand)

    owed = settle(flows)
    before = [(flow.sender, flow.receiver, flow.value_minor) for flow in flows]
    after = [(line.debtor, line.creditor, line.value_minor) for line in owed]
    assert all(position(brand, before) == position(brand, after) for brand in "abc")
    assert all(line.value_minor > 0 for line in owed)
    assert len({frozenset((line.debtor, line.creditor)) for line in owed}) == len(owed)
