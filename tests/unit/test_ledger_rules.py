"""The pure ledger rules: which lots a spend consumes, how much a refund takes back, and when points expire."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from punchcard.ledger.domain import LotView, PointsPolicy, ReturnPolicy, Take, allowed_reversal, consume, reversal_due

TALLINN = ZoneInfo("Europe/Tallinn")
JAN = datetime(2025, 1, 31, 22, 0, tzinfo=UTC)
MAR = datetime(2025, 3, 31, 21, 0, tzinfo=UTC)
JUN = datetime(2025, 6, 30, 21, 0, tzinfo=UTC)


def lot(lot_id: int, remaining: int, expires_at: datetime | None) -> LotView:
    return LotView(lot_id, remaining, expires_at)


def takes(*pairs: tuple[int, int]) -> list[Take]:
    return [Take(lot_id, points) for lot_id, points in pairs]


# --- consuming lots -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lots", "points", "first", "expected_takes", "expected_shortfall"),
    [
        pytest.param([lot(1, 10, MAR), lot(2, 10, JAN)], 15, None, takes((2, 10), (1, 5)), 0, id="soonest expiry"),
        pytest.param([lot(1, 10, None), lot(2, 10, JUN)], 12, None, takes((2, 10), (1, 2)), 0, id="never last"),
        pytest.param([lot(5, 10, MAR), lot(3, 10, MAR)], 12, None, takes((3, 10), (5, 2)), 0, id="tie by lot id"),
        pytest.param([lot(9, 5, None), lot(4, 5, None)], 6, None, takes((4, 5), (9, 1)), 0, id="never, by lot id"),
        pytest.param([lot(1, 10, JAN), lot(2, 10, MAR)], 10, None, takes((1, 10)), 0, id="stops when covered"),
        pytest.param([lot(1, 10, JAN), lot(2, 10, JUN)], 12, 2, takes((2, 10), (1, 2)), 0, id="first preferred"),
        pytest.param([lot(1, 10, JAN), lot(2, 10, None)], 12, 2, takes((2, 10), (1, 2)), 0, id="first never-expiring"),
        pytest.param([lot(1, 10, JAN), lot(2, 10, JUN)], 12, 99, takes((1, 10), (2, 2)), 0, id="first not held"),
        pytest.param([lot(1, 10, JAN), lot(2, 5, None)], 20, None, takes((1, 10), (2, 5)), 5, id="shortfall"),
        pytest.param([], 7, None, [], 7, id="no lots at all"),
        pytest.param(
            [lot(1, 0, JAN), lot(2, -3, MAR), lot(3, 4, JUN)], 6, None, takes((3, 4)), 2, id="empty lots untouched"
        ),
        pytest.param([lot(1, 10, JAN)], 0, None, [], 0, id="nothing to take"),
    ],
)
def test_consume(
    lots: list[LotView], points: int, first: int | None, expected_takes: list[Take], expected_shortfall: int
) -> None:
    assert consume(lots, points, first=first) == (expected_takes, expected_shortfall)


LOTS = st.lists(
    st.builds(
        LotView,
        lot_id=st.integers(1, 10_000),
        remaining=st.integers(-50, 500),
        expires_at=st.none() | st.sampled_from([JAN, MAR, JUN]),
    ),
    max_size=8,
    unique_by=lambda view: view.lot_id,
)


@given(lots=LOTS, points=st.integers(0, 3_000), first=st.none() | st.integers(1, 10_000))
def test_consume_never_takes_a_lot_below_zero_and_accounts_for_every_point(
    lots: list[LotView], points: int, first: int | None
) -> None:
    found, shortfall = consume(lots, points, first=first)
    remaining = {view.lot_id: view.remaining for view in lots}
    assert sum(take.points for take in found) + shortfall == points
    assert shortfall == max(points - sum(max(view.remaining, 0) for view in lots), 0)
    assert len({take.lot_id for take in found}) == len(found)  # each lot at most once
    for take in found:
        assert 0 < take.points <= remaining[take.lot_id]


# --- proportional reversal ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("earned", "already_reversed", "fraction", "expected"),
    [
        (59, 0, "0.5", 29),  # 29.5 rounded down
        (59, 29, "1", 30),  # the rest, once the whole order is refunded
        (59, 0, "1", 59),
        (59, 59, "1", 0),  # a repeated full refund takes nothing more
        (59, 0, "1.2", 59),  # more than the order is capped at the order
        (59, 30, "0.5", 0),  # never negative: nothing is given back
        (59, 0, "-0.1", 0),
        (59, 0, "0", 0),
        (0, 0, "1", 0),
        (100, 0, "0.3333333333333333333333333333", 33),
    ],
)
def test_reversal_due(earned: int, already_reversed: int, fraction: str, expected: int) -> None:
    assert reversal_due(earned, already_reversed, Decimal(fraction)) == expected


def test_refunding_an_order_in_three_parts_takes_back_exactly_what_it_earned() -> None:
    earned, reversed_so_far, refunded, total = 59, 0, Decimal(0), Decimal("59.99")
    steps = []
    for part in ("20.00", "20.00", "19.99"):
        refunded += Decimal(part)
        due = reversal_due(earned, reversed_so_far, refunded / total)
        steps.append(due)
        reversed_so_far += due
    assert steps == [19, 20, 20]
    assert reversed_so_far == 59


@given(
    earned=st.integers(0, 100_000),
    parts=st.lists(st.integers(1, 100_000), min_size=1, max_size=12),
    extra=st.lists(st.integers(1, 1_000), max_size=3),
)
def test_any_partition_of_a_refund_reverses_exactly_the_earned_points(
    earned: int, parts: list[int], extra: list[int]
) -> None:
    """Parts are amounts in cents; ``extra`` are refunds beyond the order, which must take nothing more."""
    total = Decimal(sum(parts))
    refunded, reversed_so_far = 0, 0
    for part in [*parts, *extra]:
        refunded += part
        fraction = Decimal(refunded) / total
        due = reversal_due(earned, reversed_so_far, fraction)
        assert due >= 0
        reversed_so_far += due
        assert reversed_so_far <= earned
        if fraction < 1:
            assert reversed_so_far == int((earned * fraction).to_integral_value(rounding=ROUND_FLOOR))
    assert reversed_so_far == earned


@pytest.mark.parametrize(
    ("due", "pending", "available", "policy", "expected"),
    [
        pytest.param(30, 10, 50, ReturnPolicy.UNLIMITED, (10, 20, 0), id="unlimited, covered"),
        pytest.param(30, 10, 5, ReturnPolicy.UNLIMITED, (10, 5, 15), id="unlimited, rest as debt"),
        pytest.param(30, 0, -5, ReturnPolicy.UNLIMITED, (0, 0, 30), id="unlimited, already in debt"),
        pytest.param(30, 40, 50, ReturnPolicy.UNLIMITED, (30, 0, 0), id="unlimited, all pending"),
        pytest.param(30, 10, 50, ReturnPolicy.WITHIN_BALANCE, (10, 20, 0), id="within balance, covered"),
        pytest.param(30, 10, 5, ReturnPolicy.WITHIN_BALANCE, (10, 5, 0), id="within balance, down to zero"),
        pytest.param(30, 0, -5, ReturnPolicy.WITHIN_BALANCE, (0, 0, 0), id="within balance, nothing when negative"),
        pytest.param(30, 10, 50, ReturnPolicy.ONLY_PENDING, (10, 0, 0), id="only pending"),
        pytest.param(30, 0, 50, ReturnPolicy.ONLY_PENDING, (0, 0, 0), id="only pending, none pending"),
        pytest.param(0, 10, 50, ReturnPolicy.UNLIMITED, (0, 0, 0), id="nothing due"),
    ],
)
def test_allowed_reversal_per_return_policy(
    due: int, pending: int, available: int, policy: ReturnPolicy, expected: tuple[int, int, int]
) -> None:
    assert allowed_reversal(due, pending=pending, available=available, policy=policy) == expected


# --- expiry and the return window ---------------------------------------------------------------------------------

DEMO_POLICY = PointsPolicy(expire_after_months=12)


@pytest.mark.parametrize(
    ("policy", "earned_at", "expected"),
    [
        pytest.param(
            DEMO_POLICY,
            datetime(2024, 3, 15, 10, 0, tzinfo=UTC),
            datetime(2025, 3, 15, 22, 0, tzinfo=UTC),  # 16 Mar 2025 00:00 in Tallinn (UTC+2)
            id="12 months, end of local day",
        ),
        pytest.param(
            DEMO_POLICY,
            datetime(2024, 3, 15, 21, 59, tzinfo=UTC),  # 15 Mar 23:59 in Tallinn
            datetime(2025, 3, 15, 22, 0, tzinfo=UTC),
            id="last local minute of the day",
        ),
        pytest.param(
            DEMO_POLICY,
            datetime(2024, 3, 15, 22, 30, tzinfo=UTC),  # already 16 Mar 00:30 in Tallinn
            datetime(2025, 3, 16, 22, 0, tzinfo=UTC),
            id="local date, not UTC date",
        ),
        pytest.param(
            DEMO_POLICY,
            datetime(2024, 7, 1, 10, 0, tzinfo=UTC),
            datetime(2025, 7, 1, 21, 0, tzinfo=UTC),  # 2 Jul 2025 00:00 in summer time (UTC+3)
            id="summer time",
        ),
        pytest.param(
            DEMO_POLICY,
            datetime(2024, 2, 29, 10, 0, tzinfo=UTC),
            datetime(2025, 2, 28, 22, 0, tzinfo=UTC),  # through 28 Feb 2025
            id="29 Feb + 12 months",
        ),
        pytest.param(
            PointsPolicy(expire_after_months=1),
            datetime(2024, 3, 10, 10, 0, tzinfo=UTC),
            datetime(2024, 4, 10, 21, 0, tzinfo=UTC),  # earned in winter time, expires in summer time
            id="across the spring DST change",
        ),
        pytest.param(
            PointsPolicy(expire_after_days=30),
            datetime(2024, 10, 15, 10, 0, tzinfo=UTC),
            datetime(2024, 11, 14, 22, 0, tzinfo=UTC),  # earned in summer time, expires in winter time
            id="across the autumn DST change",
        ),
        pytest.param(
            PointsPolicy(expire_after_months=1),
            datetime(2023, 1, 31, 10, 0, tzinfo=UTC),
            datetime(2023, 2, 28, 22, 0, tzinfo=UTC),
            id="31 Jan + 1 month",
        ),
        pytest.param(
            PointsPolicy(expire_after_months=1),
            datetime(2024, 1, 31, 10, 0, tzinfo=UTC),
            datetime(2024, 2, 29, 22, 0, tzinfo=UTC),
            id="31 Jan + 1 month in a leap year",
        ),
        pytest.param(
            PointsPolicy(expire_after_months=1, expire_after_days=1),
            datetime(2024, 1, 31, 10, 0, tzinfo=UTC),
            datetime(2024, 3, 1, 22, 0, tzinfo=UTC),
            id="months then days",
        ),
        pytest.param(PointsPolicy(), datetime(2024, 1, 31, 10, 0, tzinfo=UTC), None, id="never"),
    ],
)
def test_expires_at(policy: PointsPolicy, earned_at: datetime, expected: datetime | None) -> None:
    assert policy.expires_at(earned_at, TALLINN) == expected


def test_expiry_is_local_midnight_in_the_program_zone() -> None:
    expires_at = DEMO_POLICY.expires_at(datetime(2024, 3, 15, 10, 0, tzinfo=UTC), TALLINN)
    assert expires_at is not None
    local = expires_at.astimezone(TALLINN)
    assert (local.date(), local.time()) == (date(2025, 3, 16), time(0, 0))


@pytest.mark.parametrize(
    ("pending_days", "earned_at", "expected"),
    [
        pytest.param(0, datetime(2024, 6, 5, 9, 0, tzinfo=UTC), None, id="available at once"),
        pytest.param(
            1, datetime(2024, 6, 5, 9, 0, tzinfo=UTC), datetime(2024, 6, 5, 21, 0, tzinfo=UTC), id="end of the day"
        ),
        pytest.param(
            14, datetime(2024, 6, 5, 9, 0, tzinfo=UTC), datetime(2024, 6, 18, 21, 0, tzinfo=UTC), id="14 days"
        ),
        pytest.param(
            14,
            datetime(2024, 6, 4, 21, 30, tzinfo=UTC),  # 5 Jun 00:30 in Tallinn
            datetime(2024, 6, 18, 21, 0, tzinfo=UTC),
            id="counted in local days",
        ),
        pytest.param(
            30,
            datetime(2024, 10, 15, 10, 0, tzinfo=UTC),
            datetime(2024, 11, 13, 22, 0, tzinfo=UTC),  # 14 Nov 00:00 in winter time
            id="across the autumn DST change",
        ),
    ],
)
def test_available_at(pending_days: int, earned_at: datetime, expected: datetime | None) -> None:
    assert PointsPolicy(pending_days=pending_days).available_at(earned_at, TALLINN) == expected
