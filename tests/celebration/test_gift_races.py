"""Birthday gifts against concurrency, on PostgreSQL: two job runs at once, each with its own engine, give each
member one gift; and a member a request holds while a run walks past is given after, once the request is done."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import datetime

import pytest
from sqlalchemy import Engine, create_engine, func, select
from sqlalchemy.orm import Session

from punchcard.celebration import service as celebrations
from punchcard.celebration.domain import Occasion
from punchcard.celebration.models import CelebrationGift
from punchcard.coupon.models import Coupon
from punchcard.jobs import service as jobs
from punchcard.kit.db import unit_of_work
from punchcard.ledger.adjustments import Ledger
from punchcard.ledger.models import LedgerEntry
from punchcard.ledger.verify import verify
from punchcard.member.models import Member
from punchcard.program import service as programs
from tests.factories import ApiClient, ProgramMaker
from tests.invariants.test_races import at_once

AT = datetime.fromisoformat("2026-11-25T10:00:00+00:00")
MEMBERS = 24


@pytest.fixture
def engines(database_url: str, engine: Engine) -> Iterator[list[Engine]]:
    """Two engines of their own, as two `punchcard jobs run` processes would have."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): runs cannot overlap there")
    own = [create_engine(database_url, pool_size=2) for _ in range(2)]
    yield own
    for each in own:
        each.dispose()


@pytest.fixture
def shop(make_program: ProgramMaker) -> tuple[ApiClient, list[str]]:
    """A program giving 100 points and a free drink on the birthday, and members whose birthday is today."""
    api = make_program({"birthday": {"points": 100, "reward": "free-drink"}})
    enrolled = "2026-01-10T10:00:00+00:00"
    return api, [api.member(f"today-{n}", birth_date=f"19{60 + n}-11-25", enrolled_at=enrolled) for n in range(MEMBERS)]


def test_two_job_runs_at_once_give_each_birthday_once(
    shop: tuple[ApiClient, list[str]], engines: list[Engine], engine: Engine
) -> None:
    api, members = shop

    # When two runs at the same moment start together, in small batches so that they interleave
    reports = at_once(2, lambda index: jobs.run(engines[index], at=AT, now=AT, batch_size=3, only=[api.slug]))

    # Then between them every member got one gift: one grant of 100 points and one coupon
    assert sum(report.celebrations for report in reports) == MEMBERS
    with Session(engine) as session:
        given = session.execute(
            select(CelebrationGift.member_id, CelebrationGift.year).where(CelebrationGift.program_id == api.program_id)
        ).all()
        grants = session.execute(
            select(LedgerEntry.member_id, func.count(), func.sum(LedgerEntry.amount))
            .where(
                LedgerEntry.program_id == api.program_id,
                LedgerEntry.account == "points",
                LedgerEntry.rule_code == "birthday",
            )
            .group_by(LedgerEntry.member_id)
        ).all()
        coupons = Counter(
            session.execute(
                select(Coupon.member_id).where(Coupon.program_id == api.program_id, Coupon.reward_code == "free-drink")
            ).scalars()
        )
        assert verify(session, api.program_id).problems == []
    assert sorted(member for member, _ in given) == member_ids(engine, api, members)  # each once
    assert {year for _, year in given} == {2026}
    assert sorted((count, points) for _, count, points in grants) == [(1, 100)] * MEMBERS
    assert sorted(coupons.values()) == [1] * MEMBERS
    # ...and a third run finds nothing left
    assert jobs.run(engine, at=AT, now=AT, only=[api.slug]).celebrations == 0


def test_a_member_a_request_holds_is_passed_over_then_given_once_free(
    shop: tuple[ApiClient, list[str]], engines: list[Engine], engine: Engine
) -> None:
    api, members = shop
    with unit_of_work(engine) as session:
        version = programs.current(session, api.program_id)
    program = version.program
    assert program.birthday is not None
    ledger = Ledger(api.program_id, version.version, program.points, program.zone)
    celebration = celebrations.Celebration(Occasion.BIRTHDAY, program.birthday, ledger, program.reward("free-drink"))
    held_id = member_ids(engine, api, members[:1])[0]

    # Given a request holding the first member's row
    request = engines[0].connect()
    transaction = request.begin()
    request.execute(select(Member.id).where(Member.id == held_id).with_for_update(key_share=True))

    # When a run's batch walks past it
    with unit_of_work(engines[1]) as session:
        [due_round] = celebrations.due_rounds(session, celebration, AT)
        batch = celebrations.give_batch(session, celebration, due_round, at=AT, now=AT, after_id=0, limit=MEMBERS + 1)

    # Then the others are given theirs and the held member is named, not waited for
    assert batch is not None
    assert (batch.given, batch.held) == (MEMBERS - 1, [held_id])
    # ...and once the request is done, the held member is given theirs, once
    transaction.rollback()
    request.close()
    with unit_of_work(engines[1]) as session:
        given = celebrations.give_held(session, celebration, due_round, held_id, at=AT, now=AT)
    with unit_of_work(engines[1]) as session:
        again = celebrations.give_held(session, celebration, due_round, held_id, at=AT, now=AT)
    assert (given, again) == (1, 0)


def member_ids(engine: Engine, api: ApiClient, external_ids: list[str]) -> list[int]:
    with Session(engine) as session:
        query = select(Member.id).where(Member.program_id == api.program_id, Member.external_id.in_(external_ids))
        return list(session.execute(query.order_by(Member.id)).scalars())
