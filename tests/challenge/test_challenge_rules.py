"""The pure challenge rules, without a database: what an event contributes, progress per goal kind, the windows
(fixed dates, rolling from the member's start, each calendar week or month in the program's time zone), opt-in,
completion, and what a refund takes away — and when it reverses a completion."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from punchcard.challenge.domain import (
    Badge,
    Cadence,
    Challenge,
    Finish,
    Goal,
    GoalKind,
    Prize,
    Qualifier,
    Span,
    Window,
    WindowKind,
)
from punchcard.challenge.progress import (
    Completion,
    Contribution,
    Standing,
    advance,
    complete,
    contribution,
    current,
    take_away,
)
from punchcard.i18n.text import Text
from punchcard.rules.domain import PURCHASE, EventFacts, Line, LineFilter

TALLINN = ZoneInfo("Europe/Tallinn")
JUNE = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
ROLLING_30 = Window(WindowKind.ROLLING, days=30)
MONTHLY = Window(WindowKind.RECURRING, every=Cadence.MONTH)
ANY_PURCHASE = Qualifier()


def bought(*lines: tuple[str, str, str], at: datetime = JUNE) -> EventFacts:
    """A purchase of (sku, category, unit price) lines, one of each."""
    return EventFacts(
        PURCHASE, at, tuple(Line(sku, category, Decimal(1), Decimal(price)) for sku, category, price in lines)
    )


def given(facts: EventFacts, key: str, qualifier: Qualifier = ANY_PURCHASE) -> Contribution:
    found = contribution(qualifier, facts, key, "EUR", TALLINN)
    assert found is not None
    return found


def challenge(
    goal: Goal,
    window: Window = ROLLING_30,
    qualifier: Qualifier = ANY_PURCHASE,
    *,
    opt_in: bool = False,
) -> Challenge:
    return Challenge("c", Text("C"), Text(""), goal, qualifier, window, Prize(points=150), opt_in=opt_in)


# --- what an event contributes, and progress per goal kind -------------------------------------------------------


def test_a_purchase_contributes_its_selected_lines_and_its_order_total() -> None:
    coffee = Qualifier(lines=LineFilter(categories=frozenset({"coffee-beans"})))
    facts = bought(("BEANS-1", "coffee-beans", "12.50"), ("BEANS-2", "coffee-beans", "9.00"), ("MUG", "merch", "8"))
    found = given(facts, "O-1", coffee)
    assert (found.spend_minor, found.order_minor) == (2150, 2950)
    assert (found.categories, found.skus) == (("coffee-beans",), ("BEANS-1", "BEANS-2"))
    assert found.day == date(2026, 6, 10)


def test_a_purchase_without_a_selected_line_or_under_the_minimum_order_does_not_qualify() -> None:
    coffee = Qualifier(lines=LineFilter(categories=frozenset({"coffee-beans"})), min_order_minor=2000)
    assert contribution(coffee, bought(("MUG", "merch", "30")), "O-1", "EUR", TALLINN) is None
    assert contribution(coffee, bought(("BEANS", "coffee-beans", "19.99")), "O-2", "EUR", TALLINN) is None
    assert contribution(coffee, bought(("BEANS", "coffee-beans", "20.00")), "O-3", "EUR", TALLINN) is not None


def test_a_custom_event_qualifies_by_its_type_alone() -> None:
    visit = Qualifier(event_type="store_visit")
    assert contribution(visit, EventFacts("store_visit", JUNE), "evt-1", "EUR", TALLINN) == Contribution(
        "evt-1", JUNE, date(2026, 6, 10)
    )
    assert contribution(visit, bought(("MUG", "merch", "8")), "O-1", "EUR", TALLINN) is None


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        pytest.param(GoalKind.COUNT, 4, id="count: qualifying events"),
        pytest.param(GoalKind.SPEND, 4600, id="spend: minor units of the selected lines"),
        pytest.param(GoalKind.CATEGORIES, 3, id="categories: distinct"),
        pytest.param(GoalKind.SKUS, 4, id="skus: distinct"),
        pytest.param(GoalKind.DAYS, 2, id="days: distinct local days"),
    ],
)
def test_progress_per_goal_kind(kind: GoalKind, expected: int) -> None:
    late_evening = datetime(2026, 6, 10, 20, 30, tzinfo=UTC)  # 23:30 in Tallinn: still 10 June
    next_day = datetime(2026, 6, 10, 21, 30, tzinfo=UTC)  # 00:30 on 11 June in Tallinn
    found = [
        given(bought(("BEANS", "coffee-beans", "10.00")), "O-1"),
        given(bought(("BEANS", "coffee-beans", "10.00"), ("MUG", "merch", "5.00"), at=late_evening), "O-2"),
        given(bought(("CAKE", "food", "3.00"), at=next_day), "O-3"),
        given(bought(("BEANS-DARK", "coffee-beans", "18.00")), "O-4"),
    ]
    assert current(Goal(kind, 99), Qualifier(), found) == expected


# --- windows -----------------------------------------------------------------------------------------------------


def test_a_fixed_window_runs_from_the_first_local_day_to_the_end_of_the_last() -> None:
    window = Window(WindowKind.FIXED, date(2026, 6, 1), date(2026, 6, 30))
    assert window.span(JUNE, TALLINN, None) == Span(
        datetime(2026, 5, 31, 21, 0, tzinfo=UTC), datetime(2026, 6, 30, 21, 0, tzinfo=UTC)
    )
    assert window.period(JUNE, TALLINN) == ""


def test_a_rolling_window_ends_with_the_nth_local_day_after_the_start() -> None:
    evening = datetime(2026, 6, 1, 19, 0, tzinfo=UTC)  # 22:00 in Tallinn
    assert ROLLING_30.span(JUNE, TALLINN, evening) == Span(evening, datetime(2026, 7, 1, 21, 0, tzinfo=UTC))
    assert ROLLING_30.span(JUNE, TALLINN, None) is None  # not started


@pytest.mark.parametrize(
    ("moment", "cadence", "period", "span"),
    [
        pytest.param(
            datetime(2026, 5, 31, 21, 30, tzinfo=UTC),  # 00:30 on 1 June in Tallinn
            Cadence.MONTH,
            "2026-06",
            (datetime(2026, 5, 31, 21, 0, tzinfo=UTC), datetime(2026, 6, 30, 21, 0, tzinfo=UTC)),
            id="month: local, not UTC",
        ),
        pytest.param(
            datetime(2026, 12, 31, 22, 30, tzinfo=UTC),  # 00:30 on 1 January 2027 in Tallinn
            Cadence.MONTH,
            "2027-01",
            (datetime(2026, 12, 31, 22, 0, tzinfo=UTC), datetime(2027, 1, 31, 22, 0, tzinfo=UTC)),
            id="month: across the year, in winter time",
        ),
        pytest.param(
            datetime(2026, 3, 29, 12, 0, tzinfo=UTC),  # a Sunday: summer time began that night
            Cadence.WEEK,
            "2026-W13",
            (datetime(2026, 3, 22, 22, 0, tzinfo=UTC), datetime(2026, 3, 29, 21, 0, tzinfo=UTC)),
            id="ISO week: Monday first, across the DST change",
        ),
        pytest.param(
            datetime(2026, 12, 31, 12, 0, tzinfo=UTC),  # a Thursday of ISO week 53 of 2026
            Cadence.WEEK,
            "2026-W53",
            (datetime(2026, 12, 27, 22, 0, tzinfo=UTC), datetime(2027, 1, 3, 22, 0, tzinfo=UTC)),
            id="ISO week 53",
        ),
    ],
)
def test_a_recurring_window_is_each_calendar_period_in_the_program_zone(
    moment: datetime, cadence: Cadence, period: str, span: tuple[datetime, datetime]
) -> None:
    window = Window(WindowKind.RECURRING, every=cadence)
    assert window.period(moment, TALLINN) == period
    assert window.span(moment, TALLINN, None) == Span(*span)


@pytest.mark.parametrize("cadence", list(Cadence))
def test_consecutive_periods_have_consecutive_numbers(cadence: Cadence) -> None:
    first = cadence.first_day(JUNE, TALLINN)
    after = cadence.span(first, TALLINN).ends_at
    following = cadence.first_day(after, TALLINN)
    assert cadence.number(following) == cadence.number(first) + 1
    assert cadence.first_day_of(cadence.number(following)) == following


# --- taking part: opt-in, the window, completion -----------------------------------------------------------------


def test_a_challenge_to_join_counts_nothing_before_joining() -> None:
    explorer = challenge(Goal(GoalKind.CATEGORIES, 3), opt_in=True)
    found = given(bought(("BEANS", "coffee-beans", "10")), "O-1")
    assert advance(explorer, Standing(), None, found, TALLINN) is None  # not joined
    joined_later = datetime(2026, 6, 10, 10, 0, tzinfo=UTC)
    assert advance(explorer, Standing(), joined_later, found, TALLINN) is None
    joined = datetime(2026, 6, 1, 10, 0, tzinfo=UTC)
    step = advance(explorer, Standing(), joined, found, TALLINN)
    assert step is not None
    assert (step.current, step.progressed, step.completes) == (1, True, False)
    assert step.standing.started_at == joined  # the rolling window starts when the member joins
    assert step.span.ends_at == datetime(2026, 7, 1, 21, 0, tzinfo=UTC)


def test_a_rolling_challenge_without_joining_starts_with_the_first_qualifying_event() -> None:
    two_orders = challenge(Goal(GoalKind.COUNT, 2), Window(WindowKind.ROLLING, days=7))
    first = advance(two_orders, Standing(), None, given(bought(("MUG", "merch", "8")), "O-1"), TALLINN)
    assert first is not None
    assert first.standing.started_at == JUNE
    too_late = datetime(2026, 6, 17, 21, 0, tzinfo=UTC)  # 00:00 on 18 June in Tallinn: the 7th day after is over
    late = given(bought(("MUG", "merch", "8"), at=too_late), "O-2")
    assert advance(two_orders, first.standing, None, late, TALLINN) is None
    in_time = given(bought(("MUG", "merch", "8"), at=datetime(2026, 6, 17, 20, 59, tzinfo=UTC)), "O-3")
    second = advance(two_orders, first.standing, None, in_time, TALLINN)
    assert second is not None
    assert second.completes


def test_an_event_outside_a_fixed_window_counts_nothing() -> None:
    june = challenge(Goal(GoalKind.COUNT, 1), Window(WindowKind.FIXED, date(2026, 6, 1), date(2026, 6, 30)))
    may_evening = datetime(2026, 5, 31, 20, 59, tzinfo=UTC)  # 23:59 on 31 May in Tallinn
    assert advance(june, Standing(), None, given(bought(("MUG", "merch", "8"), at=may_evening), "O-1"), TALLINN) is None


def test_reaching_the_goal_completes_once_and_later_events_are_kept_only_while_it_can_be_reversed() -> None:
    one = challenge(Goal(GoalKind.COUNT, 1), MONTHLY)
    step = advance(one, Standing(), None, given(bought(("MUG", "merch", "8")), "O-1"), TALLINN)
    assert step is not None
    assert step.completes
    assert step.progressed
    done = complete(step.standing, Completion(1, JUNE, final_at=datetime(2026, 6, 24, 21, 0, tzinfo=UTC)))
    inside = advance(one, done, None, given(bought(("MUG", "merch", "8"), at=JUNE.replace(day=20)), "O-2"), TALLINN)
    assert inside is not None
    assert (inside.current, inside.progressed, inside.completes) == (2, False, False)
    after = given(bought(("MUG", "merch", "8"), at=JUNE.replace(day=27)), "O-3")
    assert advance(one, inside.standing, None, after, TALLINN) is None  # final: nothing can change it now


def test_the_same_order_counts_once() -> None:
    two = challenge(Goal(GoalKind.COUNT, 2), MONTHLY)
    found = given(bought(("MUG", "merch", "8")), "O-1")
    step = advance(two, Standing(), None, found, TALLINN)
    assert step is not None
    assert advance(two, step.standing, None, found, TALLINN) is None


# --- refunds -----------------------------------------------------------------------------------------------------


def standing_of(goal: Goal, *found: Contribution, qualifier: Qualifier = ANY_PURCHASE) -> tuple[Challenge, Standing]:
    return challenge(goal, MONTHLY, qualifier), Standing(contributions=found)


def test_a_partial_refund_takes_its_share_of_spend_rounded_down_and_the_rest_takes_the_rest() -> None:
    spend, standing = standing_of(
        Goal(GoalKind.SPEND, 10000),
        given(bought(("BEANS", "coffee-beans", "10.01")), "O-1"),
        given(bought(("MUG", "merch", "5.00")), "O-2"),
    )
    third = take_away(spend, standing, "O-1", Decimal("0.333333"), JUNE)
    assert third is not None
    assert (third.current, third.changed) == (1001 - 333 + 500, True)
    rest = take_away(spend, third.standing, "O-1", Decimal(1), JUNE)
    assert rest is not None
    assert rest.current == 500  # all of O-1, nothing of O-2


def test_a_partial_refund_keeps_an_order_counted_whole_for_count_and_distinct_goals() -> None:
    found = (given(bought(("BEANS", "coffee-beans", "10"), ("MUG", "merch", "5")), "O-1"),)
    for kind, whole in ((GoalKind.COUNT, 1), (GoalKind.CATEGORIES, 2), (GoalKind.SKUS, 2), (GoalKind.DAYS, 1)):
        game, standing = standing_of(Goal(kind, 3), *found)
        half = take_away(game, standing, "O-1", Decimal("0.5"), JUNE)
        assert half is not None
        assert (half.current, half.changed) == (whole, False)
        full = take_away(game, half.standing, "O-1", Decimal(1), JUNE)
        assert full is not None
        assert (full.current, full.changed) == (0, True)


def test_an_order_refunded_below_the_minimum_order_stops_counting() -> None:
    minimum = Qualifier(min_order_minor=2000)
    game, standing = standing_of(
        Goal(GoalKind.COUNT, 2), given(bought(("BEANS", "coffee-beans", "30")), "O-1", minimum), qualifier=minimum
    )
    small = take_away(game, standing, "O-1", Decimal("0.3"), JUNE)  # 21.00 left
    assert small is not None
    assert small.current == 1
    below = take_away(game, small.standing, "O-1", Decimal("0.4"), JUNE)  # 18.00 left
    assert below is not None
    assert below.current == 0


def test_a_refund_of_an_order_that_gave_nothing_changes_nothing() -> None:
    game, standing = standing_of(Goal(GoalKind.COUNT, 2), given(bought(("MUG", "merch", "8")), "O-1"))
    assert take_away(game, standing, "O-9", Decimal(1), JUNE) is None


def completed_by_two_categories(final_at: datetime | None) -> tuple[Challenge, Standing]:
    game, standing = standing_of(
        Goal(GoalKind.CATEGORIES, 2),
        given(bought(("BEANS", "coffee-beans", "10")), "O-1"),
        given(bought(("MUG", "merch", "8")), "O-2"),
    )
    return game, complete(standing, Completion(1, JUNE, final_at, points=150, lot_id=7))


def test_a_refund_inside_the_return_window_that_takes_the_goal_away_reverses_the_completion() -> None:
    closes = datetime(2026, 6, 24, 21, 0, tzinfo=UTC)
    game, standing = completed_by_two_categories(closes)
    retreat = take_away(game, standing, "O-1", Decimal(1), datetime(2026, 6, 20, tzinfo=UTC))
    assert retreat is not None
    assert retreat.reversed == standing.completion
    assert (retreat.current, retreat.changed, retreat.standing.completion) == (1, True, None)
    assert retreat.standing.completions == 1  # the next completion is the second


def test_a_refund_after_the_return_window_leaves_the_completion_standing() -> None:
    closes = datetime(2026, 6, 24, 21, 0, tzinfo=UTC)
    game, standing = completed_by_two_categories(closes)
    retreat = take_away(game, standing, "O-1", Decimal(1), closes)
    assert retreat is not None
    assert (retreat.reversed, retreat.standing.completion, retreat.changed) == (None, standing.completion, False)


def test_a_completion_without_a_return_window_is_final_at_once() -> None:
    game, standing = completed_by_two_categories(None)
    retreat = take_away(game, standing, "O-1", Decimal(1), JUNE)
    assert retreat is not None
    assert retreat.reversed is None


def test_a_refund_that_leaves_the_goal_reached_reverses_nothing() -> None:
    game, standing = completed_by_two_categories(datetime(2026, 6, 24, 21, 0, tzinfo=UTC))
    more = advance(game, standing, None, given(bought(("BEANS-2", "coffee-beans", "9")), "O-3"), TALLINN)
    assert more is not None
    retreat = take_away(game, more.standing, "O-1", Decimal(1), JUNE)
    assert retreat is not None
    assert (retreat.current, retreat.reversed) == (2, None)


# --- badges ------------------------------------------------------------------------------------------------------


def test_a_badge_is_earned_once_or_at_levels() -> None:
    once = Badge("explorer", Text("Explorer"), Text(""))
    levels = Badge("regular", Text("Regular"), Text(""), levels=((Finish.BRONZE, 1), (Finish.SILVER, 3)))
    assert [once.level_at(times) for times in (0, 1, 5)] == [None, Finish.PLAIN, Finish.PLAIN]
    assert [levels.level_at(times) for times in (0, 1, 2, 3, 9)] == [
        None,
        Finish.BRONZE,
        Finish.BRONZE,
        Finish.SILVER,
        Finish.SILVER,
    ]
    assert (once.image(Finish.PLAIN), levels.image(None), levels.image(Finish.SILVER)) == (
        "circle-plain.svg",
        "circle-bronze.svg",
        "circle-silver.svg",
    )
