"""The pure rules of birthday and anniversary gifts, without a database: on which local day a gift is due in the
program's time zone, 29 February in common years, days before, how late a run may still give it, the birth date
changed shortly before, anniversaries from the first one on; and the date ranges the jobs look members up by."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from punchcard.celebration.domain import Celebrant, Gift, Occasion, Occurrence, due, rounds, window
from punchcard.kit.calendar import anniversaries_on, anniversary

TALLINN, CHATHAM, LOS_ANGELES = ZoneInfo("Europe/Tallinn"), ZoneInfo("Pacific/Chatham"), ZoneInfo("America/Los_Angeles")
ON_THE_DAY = Gift(points=100, catch_up_days=0)
WEEK_LATE = Gift(points=100, catch_up_days=7)
LONG_AGO = datetime(2020, 1, 1, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def born(birth_date: str, *, enrolled_at: datetime = LONG_AGO, changed_at: datetime | None = None) -> Celebrant:
    return Celebrant(enrolled_at, date.fromisoformat(birth_date), changed_at)


def birthday(member: Celebrant, at: datetime, gift: Gift = ON_THE_DAY, zone: ZoneInfo = TALLINN) -> date | None:
    """The birthday whose gift a run at ``at`` gives, if any."""
    found = due(Occasion.BIRTHDAY, gift, member, at, zone)
    assert found is None or found.year == found.day.year
    return found.day if found is not None else None


# A run at a UTC moment gives the birthday of the program's local day: 15 March 1990, in three zones.
@pytest.mark.parametrize(
    ("zone", "at", "expected"),
    [
        # 14 March 11:00 UTC is already the 15th on the Chatham Islands (UTC+13:45), not yet in Tallinn or California
        (CHATHAM, "2027-03-14T10:14", None),  # 23:59 on the 14th
        (CHATHAM, "2027-03-14T10:15", date(2027, 3, 15)),  # 00:00 on the 15th
        (TALLINN, "2027-03-14T11:00", None),
        (LOS_ANGELES, "2027-03-14T11:00", None),
        (TALLINN, "2027-03-14T22:00", date(2027, 3, 15)),  # 00:00 in Tallinn (UTC+2)
        (TALLINN, "2027-03-15T21:59", date(2027, 3, 15)),  # 23:59
        (TALLINN, "2027-03-15T22:00", None),  # the 16th: over, with no catching up
        (CHATHAM, "2027-03-15T10:15", None),  # the 16th on Chatham, still the 15th elsewhere
        (LOS_ANGELES, "2027-03-15T06:59", None),  # 23:59 on the 14th (UTC-7 since the clocks went forward that day)
        (LOS_ANGELES, "2027-03-15T07:00", date(2027, 3, 15)),
        (LOS_ANGELES, "2027-03-16T06:59", date(2027, 3, 15)),
    ],
)
def test_a_birthday_is_due_on_the_local_day_in_the_programs_zone(zone: ZoneInfo, at: str, expected: date) -> None:
    assert birthday(born("1990-03-15"), utc(at), zone=zone) == expected


@pytest.mark.parametrize(
    ("zone", "at", "expected"),
    [
        (TALLINN, "2027-02-27T21:59", None),
        (TALLINN, "2027-02-27T22:00", date(2027, 2, 28)),  # a common year: 28 February
        (TALLINN, "2027-02-28T22:00", None),  # 1 March is not it
        (CHATHAM, "2027-02-27T10:15", date(2027, 2, 28)),  # UTC+13:45 in the southern summer
        (LOS_ANGELES, "2027-02-28T08:00", date(2027, 2, 28)),
        (TALLINN, "2028-02-27T22:00", None),  # a leap year: not 28 February...
        (TALLINN, "2028-02-28T22:00", date(2028, 2, 29)),  # ...but the 29th
        (CHATHAM, "2028-02-28T10:15", date(2028, 2, 29)),
    ],
)
def test_a_29_february_birthday_is_on_28_february_in_common_years(zone: ZoneInfo, at: str, expected: date) -> None:
    assert birthday(born("2000-02-29"), utc(at), zone=zone) == expected


def test_a_29_february_birthday_caught_up_late_is_still_the_28th() -> None:
    assert birthday(born("2000-02-29"), utc("2027-03-03T10:00"), WEEK_LATE) == date(2027, 2, 28)


def test_days_before_gives_the_birthday_early_even_in_the_year_before() -> None:
    early = Gift(points=100, days_before=10, catch_up_days=0)
    member = born("1990-01-05")
    assert birthday(member, utc("2026-12-25T10:00"), early) is None
    assert birthday(member, utc("2026-12-26T10:00"), early) == date(2027, 1, 5)  # the 2027 birthday, given in 2026
    assert birthday(member, utc("2027-01-05T10:00"), early) is None  # not again on the day


def test_days_before_and_catch_up_add_up() -> None:
    early_or_late = Gift(points=100, days_before=3, catch_up_days=2)
    member = born("1990-06-10")
    given_on = [day for day in range(1, 15) if birthday(member, utc(f"2027-06-{day:02}T10:00"), early_or_late)]
    assert given_on == [7, 8, 9]  # due on the 7th, two days to catch up


def test_a_late_run_catches_up_within_the_days_set_and_never_after() -> None:
    member = born("1990-06-10")
    assert birthday(member, utc("2027-06-17T10:00"), WEEK_LATE) == date(2027, 6, 10)  # 7 days late
    assert birthday(member, utc("2027-06-18T10:00"), WEEK_LATE) is None  # 8 days: that birthday is gone
    assert birthday(member, utc("2027-06-11T10:00"), ON_THE_DAY) is None  # 0 days: the day only
    assert birthday(member, utc("2027-06-09T10:00"), WEEK_LATE) is None  # nothing early


def test_a_late_run_in_january_gives_last_years_december_birthday() -> None:
    assert birthday(born("1990-12-30"), utc("2027-01-03T10:00"), WEEK_LATE) == date(2026, 12, 30)


def test_no_birthday_before_the_member_enrolled_nor_on_the_day_of_birth() -> None:
    enrolled = utc("2027-06-12T10:00")
    assert birthday(born("1990-06-10", enrolled_at=enrolled), utc("2027-06-12T12:00"), WEEK_LATE) is None
    assert birthday(born("1990-06-12", enrolled_at=enrolled), utc("2027-06-12T12:00"), WEEK_LATE) == date(2027, 6, 12)
    assert birthday(born("2027-06-12", enrolled_at=enrolled), utc("2027-06-12T12:00"), WEEK_LATE) is None
    assert birthday(Celebrant(enrolled, None), utc("2027-06-12T12:00"), WEEK_LATE) is None  # no birth date


# A birth date changed fewer than 30 days before the birthday gives no gift for that birthday.
@pytest.mark.parametrize(
    ("changed_at", "expected"),
    [
        (None, date(2027, 6, 10)),  # as given at enrolment
        ("2027-05-10T20:59", date(2027, 6, 10)),  # 10 May in Tallinn: 31 days before
        ("2027-05-11T20:59", date(2027, 6, 10)),  # 11 May: 30 days, enough
        ("2027-05-11T21:00", None),  # 12 May in Tallinn (UTC+3): 29 days
        ("2027-06-09T10:00", None),  # the day before
        ("2027-06-11T09:00", None),  # after it, to catch up on it
        ("2026-06-11T09:00", date(2027, 6, 10)),  # a year ago
    ],
)
def test_a_birth_date_changed_shortly_before_the_birthday_gives_nothing(changed_at: str | None, expected: date) -> None:
    gift = Gift(points=100, catch_up_days=7, min_days_since_birth_date_change=30)
    member = born("1990-06-10", changed_at=utc(changed_at) if changed_at else None)
    assert birthday(member, utc("2027-06-11T10:00"), gift) == expected


def test_the_birth_date_change_rule_can_be_turned_off_and_does_not_touch_anniversaries() -> None:
    changed = utc("2027-06-10T09:00")
    member = Celebrant(utc("2026-06-09T12:00"), date(1990, 6, 10), changed)
    assert birthday(member, utc("2027-06-10T10:00"), Gift(points=1, min_days_since_birth_date_change=0)) is not None
    strict = Gift(points=1, catch_up_days=3, min_days_since_birth_date_change=30)
    assert due(Occasion.ANNIVERSARY, strict, member, utc("2027-06-10T10:00"), TALLINN) == Occurrence(
        Occasion.ANNIVERSARY, 2027, date(2027, 6, 9)
    )


def anniversary_of(enrolled_at: str, at: str, gift: Gift = ON_THE_DAY, zone: ZoneInfo = TALLINN) -> date | None:
    found = due(Occasion.ANNIVERSARY, gift, Celebrant(utc(enrolled_at)), utc(at), zone)
    return found.day if found is not None else None


def test_an_anniversary_is_of_the_local_day_of_enrolment_from_the_first_year_on() -> None:
    enrolled = "2025-03-10T22:30"  # 11 March 00:30 in Tallinn, still 10 March in UTC and in California
    assert anniversary_of(enrolled, "2025-03-10T23:00", WEEK_LATE) is None  # the day of enrolment is not one
    assert anniversary_of(enrolled, "2026-03-10T12:00") is None
    assert anniversary_of(enrolled, "2026-03-10T22:30") == date(2026, 3, 11)
    assert anniversary_of(enrolled, "2026-03-10T12:00", zone=LOS_ANGELES) == date(2026, 3, 10)
    # On the Chatham Islands (UTC+13:45) the enrolment was on 11 March at 12:15, and 11 March begins at 10:15 UTC
    assert anniversary_of(enrolled, "2026-03-10T10:14", zone=CHATHAM) is None
    assert anniversary_of(enrolled, "2026-03-10T10:15", zone=CHATHAM) == date(2026, 3, 11)
    assert anniversary_of(enrolled, "2030-03-11T12:00") == date(2030, 3, 11)  # and every year after


def test_an_enrolment_on_29_february_has_its_anniversary_on_the_28th_in_common_years() -> None:
    enrolled = "2024-02-29T10:00"
    assert anniversary_of(enrolled, "2025-02-28T10:00") == date(2025, 2, 28)
    assert anniversary_of(enrolled, "2025-03-01T10:00") is None
    assert anniversary_of(enrolled, "2028-02-28T10:00") is None
    assert anniversary_of(enrolled, "2028-02-29T10:00") == date(2028, 2, 29)


def test_the_window_of_a_run_is_from_the_days_it_may_catch_up_to_the_days_before() -> None:
    gift = Gift(points=1, days_before=5, catch_up_days=7)
    assert window(gift, utc("2027-01-01T10:00"), TALLINN) == (date(2026, 12, 30), date(2027, 1, 6))


def test_rounds_split_the_window_by_year_and_give_one_range_per_year_of_origin() -> None:
    december, january = rounds(date(2026, 12, 30), date(2027, 1, 2), 2024)
    assert (december.year, december.origins) == (
        2026,
        ((date(2024, 12, 30), date(2024, 12, 31)), (date(2025, 12, 30), date(2025, 12, 31))),
    )
    assert (january.year, january.origins) == (
        2027,
        (
            (date(2024, 1, 1), date(2024, 1, 2)),
            (date(2025, 1, 1), date(2025, 1, 2)),
            (date(2026, 1, 1), date(2026, 1, 2)),
        ),
    )
    [february] = rounds(date(2027, 2, 27), date(2027, 2, 28), 2023)
    assert february.origins == (
        (date(2023, 2, 27), date(2023, 2, 28)),
        (date(2024, 2, 27), date(2024, 2, 29)),  # the 29th of a leap year comes round on the 28th
        (date(2025, 2, 27), date(2025, 2, 28)),
        (date(2026, 2, 27), date(2026, 2, 28)),
    )


origins = st.dates(date(1996, 1, 1), date(2027, 12, 31)) | st.sampled_from([date(2000, 2, 29), date(2024, 2, 29)])


@given(origin=origins, first=st.dates(date(2024, 1, 1), date(2029, 12, 31)), length=st.integers(0, 60))
def test_the_ranges_hold_exactly_the_origins_that_come_round_in_the_window(
    origin: date, first: date, length: int
) -> None:
    # The database looks members up by the ranges; the rule decides by ``anniversary``: they must agree.
    last = first + timedelta(days=length)
    for found in rounds(first, last, 1990):
        in_range = any(start <= origin <= end for start, end in found.origins)
        comes_round = origin.year < found.year and first <= anniversary(origin, found.year) <= last
        assert in_range == comes_round


@given(origin=origins, day=st.dates(date(2000, 1, 1), date(2040, 12, 31)))
def test_anniversaries_on_a_day_are_exactly_the_dates_that_come_round_on_it(origin: date, day: date) -> None:
    assert ((origin.month, origin.day) in anniversaries_on(day)) == (anniversary(origin, day.year) == day)
