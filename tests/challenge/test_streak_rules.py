"""The pure streak rules, without a database: runs of consecutive calendar periods in the program's time zone, what
breaks them, freezes, milestones (once, or repeating), late events, and refunds that take a period away."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from punchcard.challenge.domain import Cadence, Prize, Qualifier, Streak
from punchcard.challenge.progress import Contribution
from punchcard.challenge.streaks import (
    Milestone,
    Record,
    extend,
    lengths_due,
    reach,
    run_of,
    shorten,
    streak_status,
)
from punchcard.i18n.text import Text
from punchcard.kit.calendar import local_date

TALLINN = ZoneInfo("Europe/Tallinn")
REGULAR = Streak("regular", Text("Regular"), Text(""), Cadence.MONTH, Qualifier(), 3, Prize(points=100), repeat=True)


def in_month(month: int, key: str, *, year: int = 2026, day: int = 15) -> Contribution:
    at = datetime(year, month, day, 10, 0, tzinfo=UTC)
    return Contribution(key, at, local_date(at, TALLINN), 1000, 1000)


def played(streak: Streak, *found: Contribution) -> tuple[Record, list[tuple[int, bool, tuple[int, ...]]]]:
    """The record after each event, paying every milestone due; and (run length, extended, due) per event."""
    record, seen = Record(), []
    for item in found:
        step = extend(streak, record, item, TALLINN)
        assert step is not None
        record = step.record
        for length in step.due:
            milestone = Milestone(length, record.reached + 1, item.at, None, step.run, points=100)
            record = reach(record, milestone)
        seen.append((len(step.run), step.extended, step.due))
    return record, seen


def test_consecutive_months_make_a_run_and_pay_each_milestone_once() -> None:
    _, seen = played(
        REGULAR,
        in_month(1, "O-1"),
        in_month(1, "O-2", day=20),  # the same month again: nothing new
        in_month(2, "O-3"),
        in_month(3, "O-4"),
        in_month(4, "O-5"),
        in_month(5, "O-6"),
        in_month(6, "O-7"),
    )
    assert seen == [
        (1, True, ()),
        (1, False, ()),
        (2, True, ()),
        (3, True, (3,)),
        (4, True, ()),
        (5, True, ()),
        (6, True, (6,)),
    ]


def test_a_month_is_the_program_zones() -> None:
    december_night = Contribution(
        "O-2", datetime(2026, 12, 31, 22, 30, tzinfo=UTC), local_date(datetime(2027, 1, 1, tzinfo=UTC), TALLINN)
    )
    _, seen = played(REGULAR, in_month(11, "O-1"), december_night, in_month(2, "O-3", year=2027))
    assert seen == [(1, True, ()), (1, True, ()), (2, True, ())]  # 00:30 on 1 January in Tallinn: not December


def test_one_missed_month_breaks_the_run_and_a_new_run_pays_its_milestones_again() -> None:
    record, seen = played(
        REGULAR,
        *(in_month(month, f"O-{month}") for month in (1, 2, 3)),
        *(in_month(month, f"O-{month}") for month in (5, 6, 7)),
    )
    assert [length for length, _, _ in seen] == [1, 2, 3, 1, 2, 3]
    assert [due for _, _, due in seen] == [(), (), (3,), (), (), (3,)]
    assert record.best == 3


def test_a_freeze_bridges_a_missed_period_that_does_not_count() -> None:
    forgiving = Streak("s", Text("S"), Text(""), Cadence.MONTH, Qualifier(), 3, Prize(points=1), freezes=1)
    _, seen = played(forgiving, *(in_month(month, f"O-{month}") for month in (1, 2, 4, 6)))
    assert [length for length, _, _ in seen] == [1, 2, 3, 1]  # May was forgiven; missing March too breaks it
    assert [due for _, _, due in seen] == [(), (), (3,), ()]


def test_a_milestone_without_repeat_is_paid_once_per_run() -> None:
    once = Streak("s", Text("S"), Text(""), Cadence.WEEK, Qualifier(), 2, Prize(points=1))
    weeks = [
        Contribution(
            f"E-{n}",
            datetime(2026, 6, 1 + 7 * n, 9, tzinfo=UTC),
            local_date(datetime(2026, 6, 1 + 7 * n, 9, tzinfo=UTC), TALLINN),
        )
        for n in range(4)
    ]
    _, seen = played(once, *weeks)
    assert [due for _, _, due in seen] == [(), (2,), (), ()]
    assert lengths_due(once, 9) == [2]
    assert lengths_due(REGULAR, 9) == [3, 6, 9]


def test_a_late_event_fills_a_gap_without_paying_a_milestone_twice() -> None:
    record, seen = played(REGULAR, in_month(1, "O-1"), in_month(3, "O-3"), in_month(4, "O-4"), in_month(5, "O-5"))
    assert [due for _, _, due in seen] == [(), (), (), (3,)]  # March, April, May
    late = extend(REGULAR, record, in_month(2, "O-2"), TALLINN)  # February's order arrives now
    assert late is not None
    assert (len(late.run), late.extended, late.due) == (5, True, ())  # 3 is paid for a run this one contains


@pytest.mark.parametrize(
    ("indexes", "freezes", "run"),
    [
        pytest.param([], 0, (), id="nothing"),
        pytest.param([1, 2, 3], 0, (1, 2, 3), id="consecutive"),
        pytest.param([1, 2, 4, 5], 0, (4, 5), id="a gap breaks it"),
        pytest.param([1, 2, 4, 5], 1, (1, 2, 4, 5), id="a freeze bridges it"),
        pytest.param([1, 3, 5], 1, (5,), id="one freeze, two gaps: a new run"),
        pytest.param([1, 4], 2, (1, 4), id="two missed periods, two freezes"),
    ],
)
def test_the_run_ends_with_the_latest_period(indexes: list[int], freezes: int, run: tuple[int, ...]) -> None:
    assert run_of(indexes, freezes) == run


def three_months_reached(final_at: datetime | None) -> Record:
    record, _ = played(REGULAR, in_month(1, "O-1"), in_month(2, "O-2"), in_month(3, "O-3"))
    (milestone,) = record.milestones
    final = Milestone(milestone.length, milestone.number, milestone.at, final_at, milestone.periods, points=100)
    return Record(record.periods, (final,), record.reached, record.best)


def test_a_refund_inside_the_return_window_that_empties_a_milestones_period_reverses_it() -> None:
    record = three_months_reached(datetime(2026, 3, 29, tzinfo=UTC))
    partial = shorten(REGULAR, record, "O-2", Decimal("0.5"), datetime(2026, 3, 20, tzinfo=UTC))
    assert partial is not None
    assert partial.reversed == ()
    whole = shorten(REGULAR, partial.record, "O-2", Decimal(1), datetime(2026, 3, 20, tzinfo=UTC))
    assert whole is not None
    assert whole.reversed == record.milestones
    assert whole.record.milestones == ()
    assert [length for length, _, _ in played(REGULAR)[1]] == []
    again = extend(REGULAR, whole.record, in_month(4, "O-4"), TALLINN)
    assert again is not None
    assert (len(again.run), again.due) == (2, ())  # March and April: February is gone


def test_a_refund_after_the_return_window_leaves_the_milestone_standing() -> None:
    record = three_months_reached(datetime(2026, 3, 29, tzinfo=UTC))
    whole = shorten(REGULAR, record, "O-2", Decimal(1), datetime(2026, 4, 2, tzinfo=UTC))
    assert whole is not None
    assert whole.reversed == ()
    assert shorten(REGULAR, record, "O-9", Decimal(1), datetime(2026, 4, 2, tzinfo=UTC)) is None  # not in it


def test_what_the_member_sees_alive_at_risk_and_broken() -> None:
    forgiving = Streak("s", Text("S"), Text(""), Cadence.MONTH, Qualifier(), 3, Prize(points=1), repeat=True, freezes=1)
    record, _ = played(forgiving, in_month(1, "O-1"), in_month(2, "O-2"))
    in_february = streak_status(forgiving, record, datetime(2026, 2, 20, tzinfo=UTC), TALLINN)
    assert (in_february.length, in_february.is_extended_now, in_february.freezes_left) == (2, True, 1)
    assert in_february.next_milestone == 3
    in_april = streak_status(forgiving, record, datetime(2026, 4, 20, tzinfo=UTC), TALLINN)  # March missed: frozen
    assert (in_april.length, in_april.is_extended_now, in_april.freezes_left) == (2, False, 0)
    in_may = streak_status(forgiving, record, datetime(2026, 5, 20, tzinfo=UTC), TALLINN)
    assert (in_may.length, in_may.best, in_may.next_milestone) == (0, 2, 3)
