"""The earning arithmetic of the pure rules engine: rates, exclusions, multipliers, one rounding, conditions."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from punchcard.i18n.text import Text
from punchcard.kit.calendar import Period
from punchcard.program.domain import Program
from punchcard.program.schemas import ProgramFile
from punchcard.rules.domain import (
    PURCHASE,
    Action,
    AttributeTest,
    AwardFixed,
    AwardPerCurrencyUnit,
    Condition,
    Context,
    DateBetween,
    Evaluation,
    EventAttribute,
    EventFacts,
    FiredFewerThan,
    HasLine,
    Line,
    LineFilter,
    MemberAttribute,
    MemberFacts,
    Multiply,
    OrderTotalIn,
    Range,
    Rounding,
    Rule,
    TierIn,
    WeekdayIn,
    evaluate,
    share_out,
)

DEMO_FILE = Path(__file__).resolve().parents[2] / "examples" / "demo" / "program.yaml"
DEMO: Program = ProgramFile.model_validate(yaml.safe_load(DEMO_FILE.read_text(encoding="utf-8"))).to_domain()
TALLINN = ZoneInfo("Europe/Tallinn")
WEDNESDAY_NOON = datetime(2024, 6, 5, 9, 0, tzinfo=UTC)  # 12:00 in Tallinn

LineSpec = tuple[str, str, str, str]  # sku, category, unit price, quantity


def line(sku: str, category: str, unit_price: str, quantity: str = "1") -> Line:
    return Line(sku, category, Decimal(quantity), Decimal(unit_price))


def event(
    *lines: Line,
    shipping: str = "0",
    at: datetime = WEDNESDAY_NOON,
    type_: str = PURCHASE,
    attributes: Mapping[str, object] | None = None,
) -> EventFacts:
    return EventFacts(type_, at, tuple(lines), Decimal(shipping), attributes or {})


def context(
    facts: EventFacts,
    *,
    tier: str | None = None,
    multiplier: str = "1",
    member_attributes: Mapping[str, object] | None = None,
    firing_counts: Mapping[tuple[str, Period], int] | None = None,
    zone: ZoneInfo = TALLINN,
) -> Context:
    member = MemberFacts(tier, Decimal(multiplier), member_attributes or {}, firing_counts or {})
    return Context(facts, member, zone)


def demo_member(facts: EventFacts, tier: str = "bronze") -> Context:
    """A member of the demo program in ``tier``, with that tier's multiplier."""
    assert DEMO.tiers is not None
    member = MemberFacts(tier, DEMO.tiers.by_code(tier).multiplier)
    return Context(facts, member, TALLINN)


def by_rule(evaluation: Evaluation) -> dict[str, int]:
    return {award.rule_code: award.points for award in evaluation.awards}


def rule(
    code: str,
    action: Action,
    *conditions: Condition,
    priority: int = 0,
    max_points: str | None = None,
    stop: bool = False,
    event_type: str = PURCHASE,
) -> Rule:
    cap = Decimal(max_points) if max_points is not None else None
    return Rule(code, Text(f"Rule {code}"), event_type, action, conditions, priority, cap, None, stop)


def fixed(points: str) -> AwardFixed:
    return AwardFixed(Decimal(points))


PER_EURO = AwardPerCurrencyUnit(Decimal(1))
BEANS_2 = line("BEANS-1", "coffee-beans", "12.50", "2")  # 25.00 EUR of beans: 50 points
MUG = line("MUG", "merch", "9.99")  # 9.99 points


# --- the demo program -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "shipping", "tier", "expected_total", "expected_by_rule"),
    [
        pytest.param([BEANS_2, MUG], "4.90", "bronze", 59, {"coffee-beans": 50, "everything-else": 9}, id="bronze"),
        pytest.param(
            [BEANS_2, MUG],
            "4.90",
            "silver",
            74,  # 59.99 × 1.25 = 74.9875, rounded down once
            {"coffee-beans": 50, "everything-else": 9, "tier-multiplier": 15},
            id="silver x1.25",
        ),
        pytest.param(
            [BEANS_2, MUG],
            "4.90",
            "gold",
            89,  # 59.99 × 1.5 = 89.985
            {"coffee-beans": 50, "everything-else": 9, "tier-multiplier": 30},
            id="gold x1.5",
        ),
        pytest.param([line("GC-50", "gift-cards", "50.00")], "4.90", "bronze", 0, {}, id="gift cards earn nothing"),
        pytest.param([], "4.90", "gold", 0, {}, id="shipping alone earns nothing"),
        pytest.param(
            [line("GC-25", "gift-cards", "25.00"), line("BEANS-2", "coffee-beans", "10.00")],
            "0",
            "bronze",
            20,
            {"coffee-beans": 20},
            id="gift card next to beans",
        ),
        pytest.param([line("SPOON", "merch", "0.99")], "0", "bronze", 0, {}, id="under one point rounds to nothing"),
        pytest.param(
            [line("SPOON", "merch", "0.60"), line("CLIP", "merch", "0.60")],
            "0",
            "bronze",
            1,
            {"everything-else": 1},
            id="rounded once per order, not per line",
        ),
        pytest.param(
            [line("BEANS-S", "coffee-beans", "0.30"), line("CLIP", "merch", "0.50")],
            "0",
            "bronze",
            1,  # 0.60 + 0.50 = 1.10: the one point goes to the larger remainder
            {"coffee-beans": 1},
            id="rounded once across rules",
        ),
        pytest.param(
            [line("MUG", "merch", "10.00")],
            "0",
            "silver",
            12,
            {"everything-else": 10, "tier-multiplier": 2},
            id="silver on 10 EUR",
        ),
        pytest.param(
            [line("BEANS-K", "coffee-beans", "24.00", "0.5")],
            "0",
            "gold",
            36,  # half a kilo at 24.00 = 12.00 EUR → 24 points × 1.5
            {"coffee-beans": 24, "tier-multiplier": 12},
            id="fractional quantity",
        ),
    ],
)
def test_demo_purchase_earning(
    lines: list[Line], shipping: str, tier: str, expected_total: int, expected_by_rule: dict[str, int]
) -> None:
    evaluation = evaluate(DEMO.rules, demo_member(event(*lines, shipping=shipping), tier), DEMO.rounding)
    assert evaluation.points == expected_total
    assert by_rule(evaluation) == expected_by_rule


def test_each_demo_award_names_its_rule_and_why() -> None:
    evaluation = evaluate(DEMO.rules, demo_member(event(BEANS_2, MUG), "silver"), DEMO.rounding)
    assert [(a.rule_code, a.rule_name.default, a.exact, a.points) for a in evaluation.awards] == [
        ("coffee-beans", "2 points per € on coffee beans", Decimal("50.00"), 50),
        ("everything-else", "1 point per €", Decimal("9.99"), 9),
        ("tier-multiplier", "Tier bonus", Decimal("14.9975"), 15),
    ]
    assert evaluation.awards[0].detail == "2 points per currency unit"
    assert evaluation.awards[2].detail == "×1.25 (tier multiplier)"


def test_line_weights_are_each_lines_points_before_multipliers() -> None:
    gift_card = line("GC-20", "gift-cards", "20.00")
    evaluation = evaluate(DEMO.rules, demo_member(event(BEANS_2, MUG, gift_card), "gold"), DEMO.rounding)
    assert evaluation.line_weights == (Decimal("50.00"), Decimal("9.99"), Decimal(0))


def test_demo_welcome_bonus_on_enrolment() -> None:
    evaluation = evaluate(DEMO.rules, demo_member(event(type_="member_enrolled")), DEMO.rounding)
    assert [(a.rule_code, a.rule_name.default, a.points) for a in evaluation.awards] == [
        ("welcome", "Welcome bonus", 50)
    ]


def test_demo_tier_multiplier_does_not_touch_other_event_types() -> None:
    evaluation = evaluate(DEMO.rules, demo_member(event(type_="member_enrolled"), "gold"), DEMO.rounding)
    assert evaluation.points == 50


@pytest.mark.parametrize(
    ("firing_counts", "expected"),
    [
        pytest.param({}, 25, id="first review"),
        pytest.param({("review", Period.MONTH): 2}, 25, id="third this month"),
        pytest.param({("review", Period.MONTH): 3}, 0, id="fourth this month"),
        pytest.param({("review", Period.DAY): 5, ("review", Period.LIFETIME): 40}, 25, id="other periods ignored"),
        pytest.param({("welcome", Period.MONTH): 9}, 25, id="other rules ignored"),
    ],
)
def test_demo_review_bonus_is_limited_to_three_a_calendar_month(
    firing_counts: dict[tuple[str, Period], int], expected: int
) -> None:
    facts = context(event(type_="review_submitted"), firing_counts=firing_counts)
    assert evaluate(DEMO.rules, facts, DEMO.rounding).points == expected


def test_purchase_rules_do_not_fire_for_other_event_types() -> None:
    facts = event(BEANS_2, type_="review_submitted")
    assert by_rule(evaluate(DEMO.rules, demo_member(facts, "gold"), DEMO.rounding)) == {"review": 25}


# --- per-category rates, exclusions and shipping --------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        pytest.param(PER_EURO, 45, id="every line"),
        pytest.param(AwardPerCurrencyUnit(Decimal(3), LineFilter(categories=frozenset({"tea"}))), 30, id="category"),
        pytest.param(AwardPerCurrencyUnit(Decimal(1), LineFilter(skus=frozenset({"MUG"}))), 5, id="sku"),
        pytest.param(
            AwardPerCurrencyUnit(Decimal(1), LineFilter(categories=frozenset({"tea"}), skus=frozenset({"MUG"}))),
            15,
            id="category or sku",
        ),
        pytest.param(
            AwardPerCurrencyUnit(Decimal(1), LineFilter(exclude_categories=frozenset({"tea"}))), 35, id="excluded"
        ),
        pytest.param(
            AwardPerCurrencyUnit(
                Decimal(1), LineFilter(categories=frozenset({"tea"}), exclude_skus=frozenset({"TEA-1"}))
            ),
            0,
            id="exclusion beats inclusion",
        ),
        pytest.param(AwardPerCurrencyUnit(Decimal(1), include_shipping=True), 49, id="shipping when asked"),
        pytest.param(AwardPerCurrencyUnit(Decimal("0.5")), 22, id="half a point per unit"),
    ],
)
def test_rate_per_currency_unit_over_selected_lines(action: AwardPerCurrencyUnit, expected: int) -> None:
    facts = event(
        line("TEA-1", "tea", "10.00"), line("MUG", "merch", "5.00"), line("BAG", "bags", "30.00"), shipping="4.90"
    )
    assert evaluate([rule("r", action)], context(facts)).points == expected


# --- rounding -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("price", "down", "half_up", "up"),
    [
        ("10.00", 10, 10, 10),
        ("10.49", 10, 10, 11),
        ("10.50", 10, 11, 11),
        ("10.99", 10, 11, 11),
        ("0.01", 0, 0, 1),
    ],
)
def test_rounding_modes(price: str, down: int, half_up: int, up: int) -> None:
    facts = context(event(line("X", "merch", price)))
    rules = [rule("r", PER_EURO)]
    assert evaluate(rules, facts, Rounding.DOWN).points == down
    assert evaluate(rules, facts, Rounding.HALF_UP).points == half_up
    assert evaluate(rules, facts, Rounding.UP).points == up


def test_the_sum_of_all_rules_is_rounded_once_and_shared_back() -> None:
    # Two rules of half a point each make one point; rounding each rule down first would give none.
    rules = [rule("a", fixed("0.5")), rule("b", fixed("0.5"))]
    evaluation = evaluate(rules, context(event()))
    assert evaluation.points == 1
    assert by_rule(evaluation) == {"a": 1}  # equal remainders: the first rule in evaluation order gets the point


@pytest.mark.parametrize(
    ("total", "parts", "expected"),
    [
        (10, ["3.3", "3.3", "3.4"], [3, 3, 4]),
        (10, ["3.5", "3.5", "3"], [4, 3, 3]),  # a tie goes to the earlier part
        (74, ["50.00", "9.99", "14.9975"], [50, 9, 15]),
        (0, ["0.4", "0.5"], [0, 0]),
        (1, ["0.4", "0.5"], [0, 1]),
        (7, ["10.5", "-2.625"], [10, -3]),  # a multiplier below one gives a negative part
        (8, ["10.5", "-2.625"], [11, -3]),
        (0, [], []),
    ],
)
def test_share_out_by_largest_remainder(total: int, parts: list[str], expected: list[int]) -> None:
    shares = share_out(total, [Decimal(part) for part in parts])
    assert shares == expected
    assert sum(shares) == total


@given(
    parts=st.lists(st.decimals(min_value=-100, max_value=1000, places=4), max_size=8),
    rounding=st.sampled_from(list(Rounding)),
)
def test_shares_always_sum_to_the_rounded_total(parts: list[Decimal], rounding: Rounding) -> None:
    total = rounding.apply(sum(parts, Decimal(0)))
    shares = share_out(total, parts)
    assert sum(shares) == total
    for share, part in zip(shares, parts, strict=True):
        floor = int(part.to_integral_value(rounding=ROUND_FLOOR))
        assert share in (floor, floor + 1)  # each share is its part's floor, or one more


@given(
    prices=st.lists(st.decimals(min_value=0, max_value=500, places=2), min_size=1, max_size=6),
    multiplier=st.sampled_from(["1", "1.25", "1.5"]),
    rounding=st.sampled_from(list(Rounding)),
)
def test_effects_always_add_up_to_the_rounded_order(prices: list[Decimal], multiplier: str, rounding: Rounding) -> None:
    lines = [
        Line(f"SKU-{i}", "coffee-beans" if i % 2 else "merch", Decimal(1), price) for i, price in enumerate(prices)
    ]
    facts = context(event(*lines), tier="x", multiplier=multiplier)
    evaluation = evaluate(DEMO.rules, facts, rounding)
    exact = sum((award.exact for award in evaluation.awards), Decimal(0))
    exact_order = sum((p * (2 if i % 2 else 1) for i, p in enumerate(prices)), Decimal(0)) * Decimal(multiplier)
    assert evaluation.points == rounding.apply(exact_order)
    assert evaluation.points == sum(award.points for award in evaluation.awards)
    assert exact <= exact_order  # awards rounded to zero are left out, never invented
    assert all(award.points != 0 for award in evaluation.awards)


# --- priorities and stop ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "expected_order", "expected_total"),
    [
        pytest.param(
            [rule("a", fixed("10"), priority=20, stop=True), rule("b", fixed("5"), priority=10)],
            ["a"],
            10,
            id="stop ends the award stage",
        ),
        pytest.param(
            [rule("a", fixed("10"), priority=10, stop=True), rule("b", fixed("5"), priority=20)],
            ["b", "a"],
            15,
            id="stop does not undo higher priorities",
        ),
        pytest.param(
            [rule("a", fixed("10"), TierIn(frozenset({"gold"})), priority=20, stop=True), rule("b", fixed("5"))],
            ["b"],
            5,
            id="a stop rule that does not apply stops nothing",
        ),
        pytest.param(
            [rule("c", fixed("4")), rule("b", fixed("2"), stop=True), rule("a", fixed("1"))],
            ["a", "b"],
            3,
            id="equal priorities run in code order",
        ),
        pytest.param(
            [rule("a", fixed("10"), priority=5, stop=True), rule("m", Multiply(Decimal(2)), priority=9)],
            ["a", "m"],
            20,
            id="multipliers still apply after stop",
        ),
    ],
)
def test_priorities_and_stop(rules: list[Rule], expected_order: list[str], expected_total: int) -> None:
    evaluation = evaluate(rules, context(event()))
    assert [award.rule_code for award in evaluation.awards] == expected_order
    assert evaluation.points == expected_total


# --- caps and multipliers -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "expected_by_rule"),
    [
        pytest.param([rule("r", PER_EURO, max_points="10")], {"r": 10}, id="rate capped"),
        pytest.param([rule("r", PER_EURO, max_points="30")], {"r": 25}, id="cap not reached"),
        pytest.param([rule("r", fixed("50"), max_points="20")], {"r": 20}, id="fixed capped"),
        pytest.param([rule("r", PER_EURO, max_points="0")], {}, id="cap of zero"),
        pytest.param(
            [rule("r", PER_EURO, max_points="10"), rule("s", fixed("3"))], {"r": 10, "s": 3}, id="cap is per rule"
        ),
        pytest.param(
            [rule("r", PER_EURO), rule("m", Multiply(Decimal(2)), max_points="15")],
            {"r": 25, "m": 15},
            id="multiplier extra capped",
        ),
    ],
)
def test_max_points_caps_what_a_rule_gives_in_one_event(rules: list[Rule], expected_by_rule: dict[str, int]) -> None:
    assert by_rule(evaluate(rules, context(event(line("X", "merch", "25.00"))))) == expected_by_rule


@pytest.mark.parametrize(
    ("multipliers", "tier_multiplier", "expected_total"),
    [
        pytest.param([Multiply("tier")], "1", 100, id="tier x1 adds nothing"),
        pytest.param([Multiply("tier")], "1.5", 150, id="tier x1.5"),
        pytest.param([Multiply("tier"), Multiply(Decimal(2))], "1.5", 250, id="x1.5 and x2 make x2.5"),
        pytest.param([Multiply(Decimal("0.5"))], "1", 50, id="x0.5 halves"),
    ],
)
def test_multipliers_add_their_extra_to_the_awarded_points(
    multipliers: list[Multiply], tier_multiplier: str, expected_total: int
) -> None:
    rules = [rule("base", fixed("100")), *(rule(f"m{i}", m) for i, m in enumerate(multipliers))]
    assert evaluate(rules, context(event(), multiplier=tier_multiplier)).points == expected_total


def test_a_multiplier_without_awarded_points_gives_nothing() -> None:
    rules = [rule("m", Multiply(Decimal(3))), rule("never", fixed("10"), TierIn(frozenset({"gold"})))]
    evaluation = evaluate(rules, context(event(line("X", "merch", "25.00"))))
    assert evaluation.awards == ()
    assert evaluation.points == 0


# --- conditions ---------------------------------------------------------------------------------------------------

SATURDAY_0130_IN_TALLINN = datetime(2024, 6, 7, 22, 30, tzinfo=UTC)  # still Friday in UTC
MONDAY_0030_IN_TALLINN = datetime(2024, 6, 9, 21, 30, tzinfo=UTC)  # still Sunday in UTC
UTC_ZONE = ZoneInfo("UTC")
ADVENT = DateBetween(date(2024, 12, 1), date(2024, 12, 24))


@pytest.mark.parametrize(
    ("condition", "facts", "expected"),
    [
        # order_total: merchandise only, both ends inclusive
        pytest.param(OrderTotalIn(Range(Decimal(50))), context(event(line("X", "m", "50.00"))), True, id="total=min"),
        pytest.param(OrderTotalIn(Range(Decimal(50))), context(event(line("X", "m", "49.99"))), False, id="total<min"),
        pytest.param(
            OrderTotalIn(Range(Decimal(50))),
            context(event(line("X", "m", "45.00"), shipping="10.00")),
            False,
            id="shipping is not order total",
        ),
        pytest.param(
            OrderTotalIn(Range(None, Decimal(20))), context(event(line("X", "m", "10.00", "2"))), True, id="total=max"
        ),
        pytest.param(
            OrderTotalIn(Range(None, Decimal(20))), context(event(line("X", "m", "20.01"))), False, id="total>max"
        ),
        # has_lines
        pytest.param(
            HasLine(LineFilter(categories=frozenset({"coffee-beans"}))),
            context(event(MUG, BEANS_2)),
            True,
            id="has a category",
        ),
        pytest.param(
            HasLine(LineFilter(categories=frozenset({"coffee-beans"}))), context(event(MUG)), False, id="lacks it"
        ),
        pytest.param(HasLine(LineFilter(skus=frozenset({"MUG"}))), context(event(MUG)), True, id="has a sku"),
        pytest.param(
            HasLine(LineFilter(exclude_skus=frozenset({"MUG"}))), context(event(MUG)), False, id="only excluded lines"
        ),
        pytest.param(HasLine(LineFilter()), context(event()), False, id="no lines at all"),
        # tier
        pytest.param(TierIn(frozenset({"gold", "silver"})), context(event(), tier="gold"), True, id="tier in"),
        pytest.param(TierIn(frozenset({"gold", "silver"})), context(event(), tier="bronze"), False, id="tier out"),
        pytest.param(TierIn(frozenset({"gold"})), context(event(), tier=None), False, id="no tier"),
        # weekdays, in the program's time zone
        pytest.param(
            WeekdayIn(frozenset({"sat", "sun"})),
            context(event(at=SATURDAY_0130_IN_TALLINN)),
            True,
            id="Saturday in Tallinn",
        ),
        pytest.param(
            WeekdayIn(frozenset({"sat", "sun"})),
            context(event(at=SATURDAY_0130_IN_TALLINN), zone=UTC_ZONE),
            False,
            id="still Friday in UTC",
        ),
        pytest.param(
            WeekdayIn(frozenset({"sat", "sun"})),
            context(event(at=MONDAY_0030_IN_TALLINN)),
            False,
            id="Monday in Tallinn",
        ),
        pytest.param(
            WeekdayIn(frozenset({"sat", "sun"})),
            context(event(at=MONDAY_0030_IN_TALLINN), zone=UTC_ZONE),
            True,
            id="still Sunday in UTC",
        ),
        pytest.param(WeekdayIn(frozenset({"wed"})), context(event()), True, id="Wednesday"),
        # dates: local calendar days, both ends inclusive
        pytest.param(
            ADVENT, context(event(at=datetime(2024, 11, 30, 21, 59, 59, tzinfo=UTC))), False, id="30 Nov 23:59:59"
        ),
        pytest.param(ADVENT, context(event(at=datetime(2024, 11, 30, 22, 0, tzinfo=UTC))), True, id="1 Dec 00:00"),
        pytest.param(
            ADVENT, context(event(at=datetime(2024, 12, 24, 21, 59, 59, tzinfo=UTC))), True, id="24 Dec 23:59:59"
        ),
        pytest.param(ADVENT, context(event(at=datetime(2024, 12, 24, 22, 0, tzinfo=UTC))), False, id="25 Dec 00:00"),
        pytest.param(
            DateBetween(first=date(2024, 6, 5)), context(event(at=WEDNESDAY_NOON)), True, id="open end, first day"
        ),
        pytest.param(
            DateBetween(last=date(2024, 6, 4)), context(event(at=WEDNESDAY_NOON)), False, id="open start, after last"
        ),
        # member attributes
        pytest.param(
            MemberAttribute(AttributeTest("country", equals="EE")),
            context(event(), member_attributes={"country": "EE"}),
            True,
            id="member equals",
        ),
        pytest.param(
            MemberAttribute(AttributeTest("country", equals="EE")),
            context(event(), member_attributes={"country": "FI"}),
            False,
            id="member differs",
        ),
        pytest.param(
            MemberAttribute(AttributeTest("country", equals="EE")), context(event()), False, id="member lacks it"
        ),
        pytest.param(
            MemberAttribute(AttributeTest("marketing_consent", equals=True)),
            context(event(), member_attributes={"marketing_consent": True}),
            True,
            id="member flag",
        ),
    ],
)
def test_conditions(condition: Condition, facts: Context, expected: bool) -> None:
    evaluation = evaluate([rule("bonus", fixed("10"), condition)], facts)
    assert by_rule(evaluation) == ({"bonus": 10} if expected else {})


STARS_4_TO_5 = AttributeTest("stars", range=Range(Decimal(4), Decimal(5)))


@pytest.mark.parametrize(
    ("test", "attributes", "expected"),
    [
        (AttributeTest("channel", equals="app"), {"channel": "app"}, True),
        (AttributeTest("channel", equals="app"), {"channel": "web"}, False),
        (AttributeTest("channel", equals="app"), {}, False),
        (AttributeTest("stars", one_of=(4, 5)), {"stars": 5}, True),
        (AttributeTest("stars", one_of=(4, 5)), {"stars": 3}, False),
        (AttributeTest("lang", one_of=("et", "fi")), {"lang": "et"}, True),
        (STARS_4_TO_5, {"stars": 4}, True),
        (STARS_4_TO_5, {"stars": 5}, True),
        (STARS_4_TO_5, {"stars": 3}, False),
        (STARS_4_TO_5, {"stars": 6}, False),
        (STARS_4_TO_5, {"stars": "4.5"}, True),
        (STARS_4_TO_5, {"stars": 4.5}, True),
        (STARS_4_TO_5, {"stars": Decimal("4.5")}, True),
        (STARS_4_TO_5, {"stars": True}, False),
        (STARS_4_TO_5, {"stars": "many"}, False),
        (STARS_4_TO_5, {"stars": "NaN"}, False),
        (STARS_4_TO_5, {"stars": None}, False),
        (STARS_4_TO_5, {"stars": [4]}, False),
        (STARS_4_TO_5, {}, False),
        (AttributeTest("words", range=Range(minimum=Decimal(100))), {"words": 250}, True),
        (AttributeTest("words", range=Range(maximum=Decimal(100))), {"words": 250}, False),
    ],
)
def test_event_attribute_conditions(test: AttributeTest, attributes: dict[str, object], expected: bool) -> None:
    facts = context(event(type_="review_submitted", attributes=attributes))
    evaluation = evaluate([rule("bonus", fixed("10"), EventAttribute(test), event_type="review_submitted")], facts)
    assert evaluation.points == (10 if expected else 0)


def test_all_conditions_must_hold() -> None:
    big_beans = rule(
        "big-beans",
        fixed("100"),
        OrderTotalIn(Range(Decimal(50))),
        HasLine(LineFilter(categories=frozenset({"coffee-beans"}))),
    )
    assert evaluate([big_beans], context(event(BEANS_2, line("M", "merch", "25.00")))).points == 100
    assert evaluate([big_beans], context(event(BEANS_2))).points == 0  # beans, but only 25.00
    assert evaluate([big_beans], context(event(line("M", "merch", "60.00")))).points == 0  # 60.00, but no beans


@pytest.mark.parametrize(
    ("period", "counts", "expected"),
    [
        (Period.DAY, {}, 10),
        (Period.DAY, {("daily", Period.DAY): 1}, 10),
        (Period.DAY, {("daily", Period.DAY): 2}, 0),
        (Period.WEEK, {("daily", Period.WEEK): 2, ("daily", Period.DAY): 0}, 0),
        (Period.LIFETIME, {("daily", Period.LIFETIME): 1}, 10),
        (Period.LIFETIME, {("daily", Period.LIFETIME): 7}, 0),
    ],
)
def test_fired_fewer_than_limits(period: Period, counts: dict[tuple[str, Period], int], expected: int) -> None:
    limited = Rule("daily", Text("Twice a period"), PURCHASE, fixed("10"), limit=FiredFewerThan("daily", 2, period))
    assert evaluate([limited], context(event(), firing_counts=counts)).points == expected


def test_a_disabled_rule_applies_to_nothing_and_the_others_still_do() -> None:
    switched_off = replace(rule("double", PER_EURO, priority=10), enabled=False)
    evaluation = evaluate([switched_off, rule("base", PER_EURO)], context(event(BEANS_2)))
    assert by_rule(evaluation) == {"base": 25}


def test_enabled_false_in_the_program_file_switches_a_rule_off() -> None:
    switched = DEMO_FILE.read_text(encoding="utf-8").replace(
        "when: review_submitted\n", "when: review_submitted\n    enabled: false\n"
    )
    program = ProgramFile.model_validate(yaml.safe_load(switched)).to_domain()
    assert [(r.code, r.enabled) for r in program.rules if not r.enabled] == [("review", False)]
    assert evaluate(program.rules, demo_member(event(type_="review_submitted")), program.rounding).points == 0
