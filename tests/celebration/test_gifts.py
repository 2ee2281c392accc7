"""Birthday and enrolment-anniversary gifts given by the scheduled jobs: on the day in the program's time zone, once
per member and year however often the jobs run, caught up within the days set and never later, 29 February on the
28th in common years, none after a birth date changed shortly before; points as a grant, a reward as a free coupon;
programs without the sections give nothing."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.celebration.models import CelebrationGift
from punchcard.jobs import service as jobs
from punchcard.ledger.verify import verify
from punchcard.member.models import Member
from punchcard.outbox.models import OutboxEvent
from tests.factories import ApiClient, ProgramMaker, at_moment, ledger_items

BIRTHDAY = {"birthday": {"points": 100}}
"""The demo's: 100 points on the birthday (Europe/Tallinn), once a year; a week to catch up."""
ENROLLED = "2026-01-10T10:00:00+00:00"
"""Before every birthday here, and recent enough that the welcome bonus has not expired by November 2026."""


def run(api: ApiClient, engine: Engine, at: str, *, batch_size: int = 1000) -> int:
    """The scheduled jobs at ``at``; how many gifts they gave."""
    moment = datetime.fromisoformat(at)
    return jobs.run(engine, at=moment, now=moment, only=[api.slug], batch_size=batch_size).celebrations


def gifts(api: ApiClient, engine: Engine) -> list[tuple[str, str, int, str, int, str | None]]:
    """(member, occasion, year, day, points, coupon) of every gift of the program, in the order given."""
    with Session(engine) as session:
        query = (
            select(CelebrationGift, Member.external_id)
            .join(Member, Member.id == CelebrationGift.member_id)
            .where(CelebrationGift.program_id == api.program_id)
            .order_by(CelebrationGift.id)
        )
        return [
            (member, gift.occasion, gift.year, gift.day.isoformat(), gift.points, gift.coupon_code)
            for gift, member in session.execute(query).all()
        ]


def gift_entries(api: ApiClient, member: str) -> list[tuple[str, int, str, str | None]]:
    """(kind, points, rule, operation) of the member's gift entries, oldest first."""
    return [
        (item["kind"], item["points"], item["rule"], item["operation"])
        for item in reversed(ledger_items(api, member))
        if item["account"] == "points" and item["rule"] in ("birthday", "anniversary")
    ]


def announced(api: ApiClient, engine: Engine, event_type: str) -> list[dict[str, Any]]:
    with Session(engine) as session:
        query = select(OutboxEvent.payload).where(
            OutboxEvent.program_id == api.program_id, OutboxEvent.type == event_type
        )
        return [dict(payload) for payload in session.execute(query.order_by(OutboxEvent.id)).scalars()]


def test_a_birthday_gives_its_points_on_the_day_in_the_programs_time_zone_once(
    make_program: ProgramMaker, engine: Engine
) -> None:
    # Given a program giving 100 points on the birthday, and a member born on 26 November
    api = make_program(BIRTHDAY)
    member = api.member("born-26-nov", birth_date="1985-11-26", enrolled_at=ENROLLED)

    # When the jobs run at 23:30 on the 25th in Tallinn, then at 00:30 on the 26th, then twice more that year
    assert run(api, engine, "2026-11-25T21:30:00+00:00") == 0
    assert run(api, engine, "2026-11-25T22:30:00+00:00") == 1
    assert run(api, engine, "2026-11-25T22:30:00+00:00") == 0
    assert run(api, engine, "2026-11-30T10:00:00+00:00") == 0

    # Then one gift of 100 points, a grant for the 2026 birthday, announced as points earned for a birthday
    assert gifts(api, engine) == [(member, "birthday", 2026, "2026-11-26", 100, None)]
    assert gift_entries(api, member) == [("earn", 100, "birthday", "birthday:2026")]
    assert [
        (e["points"], e["cause"]) for e in announced(api, engine, "points.earned") if e["cause"] != "member_enrolled"
    ] == [(100, "birthday")]
    assert api.available(member) == 50 + 100  # the welcome bonus and the gift
    # ...and the member.birthday reminder is given as before
    assert [e["birthday"] for e in announced(api, engine, "member.birthday")] == ["2026-11-26"]
    # ...and the next year's comes on its day
    assert run(api, engine, "2027-11-26T10:00:00+00:00") == 1
    assert [gift[2] for gift in gifts(api, engine)] == [2026, 2027]
    with Session(engine) as session:
        assert verify(session, api.program_id).problems == []


def test_a_late_run_catches_up_within_the_days_set_and_never_for_a_birthday_long_past(
    make_program: ProgramMaker, engine: Engine
) -> None:
    api = make_program({"birthday": {"points": 100, "catch_up_days": 3}})
    three_days_ago = api.member("three-days-ago", birth_date="1990-11-22", enrolled_at=ENROLLED)
    api.member("four-days-ago", birth_date="1990-11-21", enrolled_at=ENROLLED)
    api.member("tomorrow", birth_date="1990-11-26", enrolled_at=ENROLLED)

    # When the first run since the 20th comes on the 25th
    assert run(api, engine, "2026-11-25T10:00:00+00:00") == 1

    # Then the birthday three days past is given; the one four days past never is, and tomorrow's waits
    assert gifts(api, engine) == [(three_days_ago, "birthday", 2026, "2026-11-22", 100, None)]
    assert run(api, engine, "2026-11-25T11:00:00+00:00") == 0


def test_a_29_february_birthday_is_given_on_the_28th_in_a_common_year_and_not_again_on_1_march(
    make_program: ProgramMaker, engine: Engine
) -> None:
    api = make_program(BIRTHDAY)
    leapling = api.member("leapling", birth_date="2000-02-29", enrolled_at=ENROLLED)
    assert run(api, engine, "2027-02-27T10:00:00+00:00") == 0
    assert run(api, engine, "2027-02-28T10:00:00+00:00") == 1
    assert run(api, engine, "2027-03-01T10:00:00+00:00") == 0
    assert run(api, engine, "2028-02-28T10:00:00+00:00") == 0  # a leap year: the 29th
    assert run(api, engine, "2028-02-29T10:00:00+00:00") == 1
    assert [gift[1:4] for gift in gifts(api, engine)] == [
        ("birthday", 2027, "2027-02-28"),
        ("birthday", 2028, "2028-02-29"),
    ]
    assert [gift[0] for gift in gifts(api, engine)] == [leapling, leapling]


def test_a_reward_is_given_as_a_free_coupon_days_before(make_program: ProgramMaker, engine: Engine) -> None:
    # Given a program giving a free drink three days before the birthday, and no points
    api = make_program({"birthday": {"reward": "free-drink", "days_before": 3}})
    member = api.member("born-28-nov", birth_date="1990-11-28", enrolled_at=ENROLLED)

    assert run(api, engine, "2026-11-24T10:00:00+00:00") == 0
    assert run(api, engine, "2026-11-25T10:00:00+00:00") == 1
    assert run(api, engine, "2026-11-28T10:00:00+00:00") == 0

    # Then the member has the drink's coupon, no points were spent or given, and the gift was announced
    [coupon] = api.get(f"/api/v1/members/{member}/coupons").json()["items"]
    assert (coupon["reward"], coupon["status"]) == ("free-drink", "active")
    assert gifts(api, engine) == [(member, "birthday", 2026, "2026-11-28", 0, coupon["code"])]
    assert api.available(member) == 50
    assert gift_entries(api, member) == []
    [gifted] = announced(api, engine, "reward.gifted")
    assert (gifted["reward"], gifted["cause"], gifted["coupon_code"]) == ("free-drink", "birthday", coupon["code"])


def test_points_and_a_reward_together(make_program: ProgramMaker, engine: Engine) -> None:
    api = make_program({"birthday": {"points": 100, "reward": "free-drink"}})
    member = api.member("both", birth_date="1990-11-25", enrolled_at=ENROLLED)
    assert run(api, engine, "2026-11-25T10:00:00+00:00") == 1
    [coupon] = api.get(f"/api/v1/members/{member}/coupons").json()["items"]
    assert gifts(api, engine) == [(member, "birthday", 2026, "2026-11-25", 100, coupon["code"])]


def test_a_birth_date_changed_shortly_before_the_birthday_gives_nothing_that_year(
    make_program: ProgramMaker, engine: Engine
) -> None:
    # Given a member enrolled long ago with no birth date, who gives one on 20 November: their birthday on the 26th
    api = make_program(BIRTHDAY)
    member = api.member("late-to-tell", enrolled_at=ENROLLED)
    changed = at_moment(
        api, "2026-11-20T10:00:00+00:00", "PATCH", f"/api/v1/members/{member}", {"birth_date": "1990-11-26"}
    )
    assert changed.status_code == 200, changed.text

    # Then that birthday gives nothing (6 days is under the 30 days set); the next year's does
    assert run(api, engine, "2026-11-26T10:00:00+00:00") == 0
    assert run(api, engine, "2027-11-26T10:00:00+00:00") == 1
    assert [gift[2] for gift in gifts(api, engine)] == [2027]


def test_moving_the_birth_date_after_a_gift_gives_no_second_gift_that_year(
    make_program: ProgramMaker, engine: Engine
) -> None:
    # Given a program without the waiting time after a change, and a member given their birthday gift on 2 January
    api = make_program({"birthday": {"points": 100, "min_days_since_birth_date_change": 0}})
    member = api.member("mover", birth_date="1990-01-02", enrolled_at=ENROLLED)
    assert run(api, engine, "2027-01-02T10:00:00+00:00") == 1

    # When they move their birth date to 20 March, and the jobs run on it
    moved = at_moment(
        api, "2027-01-05T10:00:00+00:00", "PATCH", f"/api/v1/members/{member}", {"birth_date": "1990-03-20"}
    )
    assert moved.status_code == 200, moved.text
    assert run(api, engine, "2027-03-20T10:00:00+00:00") == 0

    # Then 2027 had its gift already; 2028's comes on the new date
    assert run(api, engine, "2028-03-20T10:00:00+00:00") == 1
    assert [gift[2:4] for gift in gifts(api, engine)] == [(2027, "2027-01-02"), (2028, "2028-03-20")]


def test_the_birth_date_change_is_recorded_only_when_it_changes(make_program: ProgramMaker, engine: Engine) -> None:
    api = make_program()
    member = api.member("recorded", birth_date="1990-05-01")

    def changed_at() -> datetime | None:
        with Session(engine) as session:
            query = select(Member.birth_date_changed_at).where(
                Member.program_id == api.program_id, Member.external_id == member
            )
            return session.execute(query).scalar_one()

    assert changed_at() is None  # given at enrolment: not a change
    at_moment(api, "2026-06-01T10:00:00+00:00", "PATCH", f"/api/v1/members/{member}", {"birth_date": "1990-05-01"})
    at_moment(api, "2026-06-02T10:00:00+00:00", "PATCH", f"/api/v1/members/{member}", {"name": "Maria"})
    assert changed_at() is None  # the same date again, and another field
    at_moment(api, "2026-06-03T10:00:00+00:00", "PATCH", f"/api/v1/members/{member}", {"birth_date": "1990-05-02"})
    assert changed_at() == datetime.fromisoformat("2026-06-03T10:00:00+00:00")


def test_an_anniversary_is_given_on_the_local_day_of_enrolment_from_the_first_year(
    make_program: ProgramMaker, engine: Engine
) -> None:
    # Given a program giving 200 points on each anniversary of enrolment, and a member who enrolled at 01:30 on
    # 26 November 2025 in Tallinn (still the 25th in UTC)
    api = make_program({"anniversary": {"points": 200, "catch_up_days": 0}})
    member = api.member("enrolled-26-nov", enrolled_at="2025-11-25T23:30:00+00:00")
    api.member("enrolled-today", enrolled_at="2026-11-25T09:00:00+00:00")

    assert run(api, engine, "2026-11-25T21:30:00+00:00") == 0  # the 25th in Tallinn; and no gift on enrolment day
    assert run(api, engine, "2026-11-25T22:30:00+00:00") == 1
    assert run(api, engine, "2026-11-26T12:00:00+00:00") == 0
    assert gifts(api, engine) == [(member, "anniversary", 2026, "2026-11-26", 200, None)]
    assert gift_entries(api, member) == [("earn", 200, "anniversary", "anniversary:2026")]


def test_an_enrolment_on_29_february_has_its_anniversary_on_the_28th_in_common_years(
    make_program: ProgramMaker, engine: Engine
) -> None:
    api = make_program({"anniversary": {"points": 200, "catch_up_days": 0}})
    member = api.member("leap-day-joiner", enrolled_at="2024-02-29T10:00:00+00:00")
    assert run(api, engine, "2025-02-28T10:00:00+00:00") == 1
    assert run(api, engine, "2025-03-01T10:00:00+00:00") == 0
    assert run(api, engine, "2028-02-28T10:00:00+00:00") == 0
    assert run(api, engine, "2028-02-29T10:00:00+00:00") == 1
    assert [gift[:4] for gift in gifts(api, engine)] == [
        (member, "anniversary", 2025, "2025-02-28"),
        (member, "anniversary", 2028, "2028-02-29"),
    ]


def test_birthdays_and_anniversaries_are_separate_gifts(make_program: ProgramMaker, engine: Engine) -> None:
    api = make_program({"birthday": {"points": 100}, "anniversary": {"points": 200}})
    member = api.member("twice-celebrated", birth_date="1990-11-25", enrolled_at="2024-11-25T10:00:00+00:00")
    assert run(api, engine, "2026-11-25T10:00:00+00:00") == 2
    assert [gift[1:5] for gift in gifts(api, engine)] == [
        ("birthday", 2026, "2026-11-25", 100),
        ("anniversary", 2026, "2026-11-25", 200),
    ]
    assert api.available(member) == 100 + 200  # the welcome bonus of 2024 has expired


def test_every_member_due_is_given_across_batches_and_blocked_members_are_not(
    make_program: ProgramMaker, engine: Engine
) -> None:
    api = make_program(BIRTHDAY)
    due = [api.member(f"due-{n}", birth_date=f"19{70 + n}-11-25", enrolled_at=ENROLLED) for n in range(7)]
    blocked = api.member("blocked", birth_date="1990-11-25", enrolled_at=ENROLLED)
    assert api.patch(f"/api/v1/members/{blocked}", {"status": "blocked"}).status_code == 200
    api.member("tomorrow", birth_date="1990-11-26", enrolled_at=ENROLLED)
    api.member("no-birth-date", enrolled_at=ENROLLED)

    assert run(api, engine, "2026-11-25T10:00:00+00:00", batch_size=2) == 7
    assert sorted(gift[0] for gift in gifts(api, engine)) == sorted(due)


def test_a_program_without_the_sections_gives_nothing(api: ApiClient, engine: Engine) -> None:
    member = api.member("no-gifts-here", birth_date="1990-11-25", enrolled_at="2024-11-25T10:00:00+00:00")
    at = datetime.fromisoformat("2026-11-25T10:00:00+00:00")
    report = jobs.run(engine, at=at, now=at, only=[api.slug])
    assert (report.celebrations, report.reminders) == (0, 1)  # the birthday is still announced
    assert gifts(api, engine) == []
    assert gift_entries(api, member) == []
