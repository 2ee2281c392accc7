"""The ledger invariants with birthday and anniversary gifts, under any sequence of job runs (late, repeated, two at
once at different moments), birth-date changes and time passing, in three time zones: the ledger stays balanced and
adds up, no member gets two gifts of an occasion in a year, and the gifts given are exactly those the pure rule
(``celebration.domain.due``) calls for at the runs' moments."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.celebration.domain import Celebrant, Gift, Occasion, due
from punchcard.celebration.models import CelebrationGift
from punchcard.jobs import service as jobs
from punchcard.ledger.models import LedgerEntry
from punchcard.member.models import Member
from tests.factories import ApiClient, ProgramMaker
from tests.invariants import test_ledger_invariants as ledger_invariants
from tests.invariants.test_ledger_invariants import Clock, check_invariants
from tests.invariants.test_races import at_once

clock = ledger_invariants.clock  # the API's clock, held still and moved only by the sequence
START = datetime(2026, 12, 20, 10, 0, tzinfo=UTC)
ENROLLED = START - timedelta(days=370)
ZONES = ["Europe/Tallinn", "Pacific/Chatham", "America/Los_Angeles"]


@dataclass(frozen=True)
class Advance:
    hours: int


@dataclass(frozen=True)
class Run:
    late_hours: int
    """The run is for this many hours before the clock: late runs, and runs out of order."""


@dataclass(frozen=True)
class TwoRunsAtOnce:
    late_hours: int
    """One for the clock's moment, one for this many hours before it."""


@dataclass(frozen=True)
class ChangeBirthDate:
    member: int
    birth_date: date


Operation = Advance | Run | TwoRunsAtOnce | ChangeBirthDate

# Birthdays around the sequence's months (December to March), 29 February among them
birth_dates = st.one_of(
    st.dates(date(1980, 12, 1), date(1981, 3, 31)),
    st.sampled_from([date(2000, 2, 29), date(1990, 12, 31), date(1990, 1, 1), date(1985, 12, 25)]),
)
operations: st.SearchStrategy[Operation] = st.one_of(
    st.builds(Advance, hours=st.integers(1, 24 * 30)),
    st.builds(Run, late_hours=st.integers(0, 24 * 12)),
    st.builds(Run, late_hours=st.just(0)),
    st.builds(TwoRunsAtOnce, late_hours=st.integers(0, 24 * 12)),
    st.builds(ChangeBirthDate, member=st.integers(0, 2), birth_date=birth_dates),
)
gifts = st.builds(
    Gift,
    points=st.just(100),
    days_before=st.integers(0, 3),
    catch_up_days=st.integers(0, 10),
    min_days_since_birth_date_change=st.integers(0, 40),
)


@dataclass
class Model:
    """What the test knows of the members, and the gifts the rule calls for at the runs so far."""

    zone: ZoneInfo
    gifts: dict[Occasion, Gift]
    members: list[tuple[str, Celebrant]]
    expected: set[tuple[str, str, int]]

    def ran(self, at: datetime) -> None:
        for external_id, member in self.members:
            for occasion, gift in self.gifts.items():
                found = due(occasion, gift, member, at, self.zone)
                if found is not None:
                    self.expected.add((external_id, occasion.value, found.year))


def program_file(zone: str, birthday: Gift, anniversary: Gift) -> dict[str, Any]:
    def section(gift: Gift) -> dict[str, int]:
        return {"points": gift.points, "days_before": gift.days_before, "catch_up_days": gift.catch_up_days}

    return {
        "timezone": zone,
        "birthday": section(birthday) | {"min_days_since_birth_date_change": birthday.min_days_since_birth_date_change},
        "anniversary": section(anniversary),
    }


def run_jobs(api: ApiClient, engine: Engine, *moments: datetime) -> None:
    def one(index: int) -> None:
        jobs.run(engine, at=moments[index], now=moments[index], batch_size=2, only=[api.slug])

    if len(moments) > 1:
        at_once(len(moments), one)
    else:
        one(0)


def given_gifts(api: ApiClient, engine: Engine) -> tuple[list[tuple[str, str, int]], Counter[tuple[int | None, str]]]:
    """The gift rows (member, occasion, year), and how many gift entries each member's operation has."""
    with Session(engine) as session:
        rows = session.execute(
            select(Member.external_id, CelebrationGift.occasion, CelebrationGift.year)
            .join(Member, Member.id == CelebrationGift.member_id)
            .where(CelebrationGift.program_id == api.program_id)
        ).all()
        entries = session.execute(
            select(LedgerEntry.member_id, LedgerEntry.operation).where(
                LedgerEntry.program_id == api.program_id,
                LedgerEntry.account == "points",
                LedgerEntry.rule_code.in_(["birthday", "anniversary"]),
            )
        ).all()
    return [(member, occasion, year) for member, occasion, year in rows], Counter(
        (member_id, operation or "") for member_id, operation in entries
    )


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    zone=st.sampled_from(ZONES),
    birthday=gifts,
    anniversary=gifts,
    born=st.lists(birth_dates, min_size=3, max_size=3),
    steps=st.lists(operations, min_size=3, max_size=12),
)
# 29 February, caught up late in a common year on the Chatham Islands, then run again and twice at once
@example(
    zone="Pacific/Chatham",
    birthday=Gift(100, None, 0, 7, 30),
    anniversary=Gift(100, None, 0, 0, 0),
    born=[date(2000, 2, 29), date(1980, 12, 31), date(1981, 1, 1)],
    steps=[Advance(24 * 71), Run(0), Run(0), TwoRunsAtOnce(24), Advance(24 * 300), Run(24 * 8)],
)
def test_gifts_keep_the_ledger_balanced_and_come_once_a_year_as_the_rule_says(
    zone: str,
    birthday: Gift,
    anniversary: Gift,
    born: list[date],
    steps: list[Operation],
    make_program: ProgramMaker,
    engine: Engine,
    clock: Clock,
) -> None:
    # Given a program with both gifts, and three members enrolled a year before with birth dates around the season
    clock.now = START
    api = make_program(program_file(zone, birthday, anniversary))
    members = [
        api.member(birth_date=birth_date.isoformat(), enrolled_at=(ENROLLED + timedelta(days=n)).isoformat())
        for n, birth_date in enumerate(born)
    ]
    model = Model(
        ZoneInfo(zone),
        {Occasion.BIRTHDAY: birthday, Occasion.ANNIVERSARY: anniversary},
        [(member, Celebrant(ENROLLED + timedelta(days=n), born[n])) for n, member in enumerate(members)],
        set(),
    )

    # When any sequence of runs, changes and time passing happens, then after every step:
    for step in steps:
        if isinstance(step, Advance):
            clock.now += timedelta(hours=step.hours)
        elif isinstance(step, Run):
            moment = clock.now - timedelta(hours=step.late_hours)
            run_jobs(api, engine, moment)
            model.ran(moment)
        elif isinstance(step, TwoRunsAtOnce):
            moments = (clock.now, clock.now - timedelta(hours=step.late_hours))
            run_jobs(api, engine, *moments)
            for moment in moments:
                model.ran(moment)
        else:
            external_id, member = model.members[step.member]
            response = api.patch(f"/api/v1/members/{external_id}", {"birth_date": step.birth_date.isoformat()})
            assert response.status_code == 200, response.text
            if step.birth_date != member.birth_date:
                member = Celebrant(member.enrolled_at, step.birth_date, clock.now)
            model.members[step.member] = (external_id, member)

        # ...the gifts are those the rule calls for, each once: one row and one grant per member, occasion and year
        rows, grants = given_gifts(api, engine)
        assert sorted(rows) == sorted(model.expected)
        assert len(rows) == sum(grants.values())
        assert set(grants.values()) <= {1}
        # ...and the ledger adds up and balances for every member
        for external_id in members:
            check_invariants(api, engine, external_id, "unlimited", [])
    event(f"gifts given: {min(len(model.expected), 3)}{'+' if len(model.expected) >= 3 else ''}")
