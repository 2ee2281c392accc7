"""The pure coupon and catalogue rules: the discount each benefit gives, and each refusal in the order checked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from punchcard.coupon.domain import Benefit, BenefitKind, Order, Refusal, Verdict, check
from punchcard.i18n.text import Text
from punchcard.reward.domain import Obstacle, Reward, obstacle
from punchcard.rules.domain import Line, LineFilter

NOW = datetime(2025, 3, 15, 10, 0, tzinfo=UTC)
EXPIRES = NOW + timedelta(days=30)
BEANS = frozenset({"coffee-beans"})


def line(sku: str, category: str, unit_price: str, quantity: str = "1") -> Line:
    return Line(sku, category, Decimal(quantity), Decimal(unit_price))


def order(*lines: Line, total: str | None = None, currency: str = "EUR", shipping: str = "0") -> Order:
    """An order whose total is its lines' value unless given."""
    value = Decimal(total) if total is not None else sum((item.value for item in lines), Decimal(0))
    return Order(value, currency, tuple(lines), Decimal(shipping))


def verdict(
    benefit: Benefit,
    placed: Order,
    *,
    now: datetime = NOW,
    used_elsewhere: bool = False,
    expires_at: datetime = EXPIRES,
) -> Verdict:
    return check(benefit, placed, currency="EUR", expires_at=expires_at, is_used_by_other_order=used_elsewhere, now=now)


FIVE_OFF = Benefit(BenefitKind.AMOUNT_OFF, amount=Decimal("5.00"), min_order_total=Decimal("20.00"))
BEANS_FIVE_OFF = Benefit(BenefitKind.AMOUNT_OFF, amount=Decimal("5.00"), lines=LineFilter(categories=BEANS))
BEANS_FIVE_OFF_FROM_20 = Benefit(
    BenefitKind.AMOUNT_OFF, amount=Decimal("5.00"), min_order_total=Decimal("20.00"), lines=LineFilter(categories=BEANS)
)
TEN_PERCENT = Benefit(BenefitKind.PERCENT_OFF, percent=Decimal(10))
TEN_PERCENT_BEANS = Benefit(BenefitKind.PERCENT_OFF, percent=Decimal(10), lines=LineFilter(categories=BEANS))
FREE_SHIPPING = Benefit(BenefitKind.FREE_SHIPPING)
FREE_DRINK = Benefit(BenefitKind.FREE_PRODUCT, sku="DRINK-ANY")
BEANS_25 = line("BEANS-1", "coffee-beans", "12.50", "2")
MUG_10 = line("MUG", "merch", "10.00")
DRINK = line("DRINK-ANY", "drinks", "3.50", "2")


@pytest.mark.parametrize(
    ("benefit", "placed", "expected_discount"),
    [
        pytest.param(FIVE_OFF, order(BEANS_25), Decimal("5.00"), id="amount off"),
        pytest.param(FIVE_OFF, order(line("X", "merch", "20.00")), Decimal("5.00"), id="amount off at the minimum"),
        pytest.param(FIVE_OFF, order(total="30.00"), Decimal("5.00"), id="amount off, order without lines"),
        pytest.param(
            BEANS_FIVE_OFF,
            order(line("BEANS-S", "coffee-beans", "3.00"), MUG_10),
            Decimal("3.00"),
            id="amount off at most the eligible lines",
        ),
        pytest.param(
            Benefit(BenefitKind.AMOUNT_OFF, amount=Decimal("50.00")),
            order(total="12.00"),
            Decimal("12.00"),
            id="amount off at most the order",
        ),
        pytest.param(TEN_PERCENT, order(BEANS_25, MUG_10), Decimal("3.50"), id="percent off"),
        pytest.param(TEN_PERCENT_BEANS, order(BEANS_25, MUG_10), Decimal("2.50"), id="percent off eligible lines"),
        pytest.param(TEN_PERCENT, order(total="40.00"), Decimal("4.00"), id="percent off, order without lines"),
        pytest.param(FREE_SHIPPING, order(MUG_10, shipping="4.90"), Decimal("4.90"), id="free shipping"),
        pytest.param(FREE_SHIPPING, order(MUG_10), Decimal(0), id="free shipping without shipping"),
        pytest.param(FREE_DRINK, order(MUG_10, DRINK), Decimal("3.50"), id="free product: one unit"),
        pytest.param(FREE_DRINK, order(DRINK, total="2.00"), Decimal("2.00"), id="free product at most the order"),
    ],
)
def test_discount_per_benefit_kind(benefit: Benefit, placed: Order, expected_discount: Decimal) -> None:
    result = verdict(benefit, placed)
    assert result == Verdict(None, expected_discount)
    assert result.is_valid


@pytest.mark.parametrize(
    ("benefit", "placed", "now", "used_elsewhere", "expected"),
    [
        # An order that fails every check; each case fixes one more thing, and the next refusal shows.
        pytest.param(
            BEANS_FIVE_OFF, order(MUG_10, currency="USD"), EXPIRES, True, Refusal.COUPON_EXPIRED, id="expired"
        ),
        pytest.param(
            BEANS_FIVE_OFF,
            order(MUG_10, currency="USD"),
            EXPIRES - timedelta(microseconds=1),
            True,
            Refusal.COUPON_ALREADY_REDEEMED,
            id="used by another order",
        ),
        pytest.param(
            BEANS_FIVE_OFF, order(MUG_10, currency="USD"), NOW, False, Refusal.CURRENCY_MISMATCH, id="other currency"
        ),
        pytest.param(
            Benefit(
                BenefitKind.AMOUNT_OFF, Decimal(5), min_order_total=Decimal(20), lines=LineFilter(categories=BEANS)
            ),
            order(MUG_10),
            NOW,
            False,
            Refusal.ORDER_TOTAL_TOO_LOW,
            id="order too small",
        ),
        pytest.param(BEANS_FIVE_OFF, order(MUG_10), NOW, False, Refusal.NO_ELIGIBLE_LINES, id="no eligible lines"),
        pytest.param(TEN_PERCENT_BEANS, order(MUG_10), NOW, False, Refusal.NO_ELIGIBLE_LINES, id="percent, none"),
        pytest.param(FREE_DRINK, order(MUG_10), NOW, False, Refusal.PRODUCT_NOT_IN_ORDER, id="product missing"),
        pytest.param(
            FREE_DRINK,
            order(line("DRINK-ANY", "drinks", "3.50", "0"), MUG_10),
            NOW,
            False,
            Refusal.PRODUCT_NOT_IN_ORDER,
            id="product with quantity 0",
        ),
        pytest.param(
            Benefit(BenefitKind.FREE_PRODUCT, sku="DRINK-ANY", min_order_total=Decimal(20)),
            order(MUG_10),
            NOW,
            False,
            Refusal.ORDER_TOTAL_TOO_LOW,
            id="minimum before product",
        ),
    ],
)
def test_refusals_in_the_order_they_are_checked(
    benefit: Benefit, placed: Order, now: datetime, used_elsewhere: bool, expected: Refusal
) -> None:
    result = verdict(benefit, placed, now=now, used_elsewhere=used_elsewhere)
    assert result == Verdict(expected, Decimal(0))
    assert not result.is_valid


def test_the_same_coupon_is_valid_once_every_check_passes() -> None:
    assert verdict(BEANS_FIVE_OFF, order(BEANS_25, MUG_10)) == Verdict(None, Decimal("5.00"))


def test_order_total_is_what_the_minimum_is_checked_against() -> None:
    # The shop's total (e.g. after other discounts) decides, not the sum of the lines.
    assert verdict(FIVE_OFF, order(BEANS_25, total="19.99")).refusal is Refusal.ORDER_TOTAL_TOO_LOW


# --- rewards ------------------------------------------------------------------------------------------------------

OPENS = datetime(2025, 3, 1, tzinfo=UTC)
CLOSES = datetime(2025, 4, 1, tzinfo=UTC)
SEASONAL = Reward(
    code="spring-shipping",
    name=Text("Free shipping in spring"),
    points_cost=500,
    benefit=FREE_SHIPPING,
    min_tier="silver",
    limit_per_member=2,
    available_from=OPENS,
    available_until=CLOSES,
)


@pytest.mark.parametrize(
    ("now", "tier_rank", "redeemed_count", "available_points", "expected"),
    [
        # Everything wrong at first; each case fixes one more thing, and the next obstacle shows.
        pytest.param(OPENS - timedelta(seconds=1), 0, 2, 100, Obstacle.REWARD_NOT_AVAILABLE, id="not yet available"),
        pytest.param(CLOSES, 0, 2, 100, Obstacle.REWARD_NOT_AVAILABLE, id="no longer available"),
        pytest.param(OPENS, 0, 2, 100, Obstacle.TIER_TOO_LOW, id="tier too low"),
        pytest.param(OPENS, 1, 2, 100, Obstacle.REWARD_LIMIT_REACHED, id="limit reached"),
        pytest.param(OPENS, 2, 1, 100, Obstacle.INSUFFICIENT_POINTS, id="not enough points"),
        pytest.param(OPENS, 1, 1, 499, Obstacle.INSUFFICIENT_POINTS, id="one point short"),
        pytest.param(OPENS, 1, 1, 500, None, id="exactly enough"),
        pytest.param(CLOSES - timedelta(seconds=1), 2, 0, 10_000, None, id="last moment of the window"),
    ],
)
def test_reward_obstacles_in_the_order_they_are_checked(
    now: datetime, tier_rank: int, redeemed_count: int, available_points: int, expected: Obstacle | None
) -> None:
    found = obstacle(
        SEASONAL,
        now=now,
        tier_rank=tier_rank,
        min_tier_rank=1,
        redeemed_count=redeemed_count,
        available_points=available_points,
    )
    assert found == expected


def test_a_reward_without_window_or_limit_only_needs_points() -> None:
    free_drink = Reward("free-drink", Text("A free drink"), 150, FREE_DRINK)

    def check_with(points: int) -> Obstacle | None:
        return obstacle(free_drink, now=NOW, tier_rank=0, min_tier_rank=0, redeemed_count=99, available_points=points)

    assert check_with(150) is None
    assert check_with(149) is Obstacle.INSUFFICIENT_POINTS
