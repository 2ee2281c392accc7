"""The scheduled jobs and requests that spend points, at once, against a real server: no request fails with a 500 and
the run completes, because a job never waits on a lock a request holds while it holds one itself (docs/decisions.md,
Performance 18 and issue 9 entry 3: its batches skip what a request holds, and settle it later waiting for nothing
but the member).

Before that was true, a request held its member's row ``FOR UPDATE`` and waited for a lot the expiry job had claimed,
while the job, inserting that lot's expiry entry, waited for the member row (the entry's foreign key takes ``FOR KEY
SHARE`` on it): PostgreSQL broke the deadlock by failing one of them, the request with a 500 or the run with exit 1.

Should the database still give a request up, the adjustment and redemption endpoints run it again whole, and answer
503 ``busy_try_again`` only after the third time: the last tests here make the database "give up" on purpose.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from psycopg import errors as pg
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from punchcard.jobs import service as jobs
from punchcard.ledger import adjustments
from punchcard.ledger.domain import EntryKind
from punchcard.ledger.models import LedgerEntry, Lot
from punchcard.member.models import Member
from punchcard.reward import service as rewards
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, error_of, ledger_items, line
from tests.invariants import test_races as races
from tests.invariants.test_ledger_invariants import check_invariants
from tests.invariants.test_races import at_once, auth

server, http = races.server, races.http  # the real server in a thread, and a client for it

AT = datetime(2028, 11, 25, 12, 0, tzinfo=UTC)
"""The run's moment, two years after the requests' clock (``NOW``): every lot bought in the year before is due."""

MEMBERS = 25
PURCHASES = 60  # per member: 1,500 in all
# 25 members rather than the report's 50, so more requests meet the run on the same member: before the fix, 10 runs of
# 10 failed (50 members: 9 of 10).
THREADS = 10
REQUESTS = 400
"""At most this many requests per thread; each thread stops early once the run is over (after ``AT_LEAST``)."""
AT_LEAST = 20
FREE_DRINK = 150


@pytest.fixture
def shop(make_program: ProgramMaker, engine: Engine) -> tuple[ApiClient, list[str]]:
    """25 members with 60 purchases each over the year before ``NOW`` (the last two weeks' still pending)."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no row locks: BEGIN IMMEDIATE serialises writers, so nothing can deadlock")
    api = make_program({"points": {"pending_days": 14}})
    members = []
    for m in range(MEMBERS):
        member = api.member(enrolled_at=(NOW - timedelta(days=340)).isoformat())
        for p in range(PURCHASES):
            bought = NOW - timedelta(days=(p * 11 + m) % 330, hours=1 + m % 5)
            api.purchase(member, [line("BEANS-1", "coffee-beans", "12.00")], occurred_at=bought.isoformat())
        members.append(member)
    return api, members


def test_jobs_and_spending_requests_at_once_never_fail_and_the_ledger_adds_up(
    shop: tuple[ApiClient, list[str]], http: httpx.Client, engine: Engine
) -> None:
    api, members = shop
    done = threading.Event()

    def run_jobs() -> jobs.Report:
        try:
            return jobs.run(engine, at=AT, now=AT, batch_size=50, only=[api.slug])
        finally:
            done.set()

    def spend(thread: int) -> list[tuple[str, httpx.Response]]:
        answers: list[tuple[str, httpx.Response]] = []
        for n in range(REQUESTS):
            if done.is_set() and n >= AT_LEAST:
                break
            member = members[(thread * 7 + n * 3) % len(members)]
            if n % 2 == 0:
                kind = "adjustment"
                response = http.post(
                    f"/api/v1/members/{member}/adjustments",
                    json={"points": -1, "reason": f"race {thread}-{n}"},
                    headers=auth(api),
                )
            else:
                kind = "redemption"
                response = http.post(
                    f"/api/v1/members/{member}/redemptions",
                    json={"reward": "free-drink"},
                    headers={**auth(api), "Idempotency-Key": f"race-{thread}-{n}"},
                )
            answers.append((kind, response))
        return answers

    # When the run (two years on, in batches of 50) and ten threads of adjustments and redemptions start together
    results = at_once(THREADS + 1, lambda i: (run_jobs(), []) if i == 0 else (None, spend(i)))
    report = results[0][0]
    assert report is not None
    answers = [answer for _, thread in results for answer in thread]

    # Then the run completed: it vested and expired what was due
    assert report.lots_vested > 0
    assert report.lots_expired > 0
    # ...and every request either succeeded or was refused for lack of points: never a 500
    outcomes = Counter((kind, response.status_code) for kind, response in answers)
    unexpected = [response.text for _, response in answers if response.status_code not in (201, 422)]
    assert not unexpected, (outcomes, unexpected[:3])
    refused = {response.json()["error"]["code"] for _, response in answers if response.status_code == 422}
    assert refused <= {"insufficient_points"}
    # ...each success is in the ledger once, each refusal not at all
    with Session(engine) as session:
        moved = dict(
            session.execute(
                select(LedgerEntry.kind, func.sum(LedgerEntry.amount))
                .where(
                    LedgerEntry.program_id == api.program_id,
                    LedgerEntry.member_id.is_not(None),  # the members' legs (the program's mirror them)
                    LedgerEntry.kind.in_([EntryKind.ADJUST.value, EntryKind.SPEND.value]),
                )
                .group_by(LedgerEntry.kind)
            ).all()
        )
        negative = session.execute(
            select(func.count()).where(Lot.program_id == api.program_id, Lot.remaining < 0)
        ).scalar_one()
        enrolled = session.execute(select(func.count()).where(Member.program_id == api.program_id)).scalar_one()
    assert moved.get(EntryKind.ADJUST.value, 0) == -outcomes[("adjustment", 201)]
    assert moved.get(EntryKind.SPEND.value, 0) == -FREE_DRINK * outcomes[("redemption", 201)]
    # ...no lot went below zero, and every member's balances equal their entries and lots
    assert (negative, enrolled) == (0, MEMBERS)
    for member in members:
        check_invariants(api, engine, member, "unlimited", [])


# --- the last resort: a request the database gives up runs again whole ----------------------------------------------


def given_up(times: int, work: Callable[..., Any]) -> tuple[Callable[..., Any], list[int]]:
    """``work`` that does its writes and then, its first ``times`` runs, fails as a deadlocked statement would."""
    runs: list[int] = []

    def run(*args: Any, **kwargs: Any) -> Any:
        result = work(*args, **kwargs)
        runs.append(1)
        if len(runs) <= times:
            raise OperationalError("UPDATE lots", {}, pg.DeadlockDetected("deadlock detected"))
        return result

    return run, runs


def test_an_adjustment_the_database_gives_up_runs_again_whole_and_counts_once(
    api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = api.member()
    adjust, runs = given_up(2, adjustments.adjust)
    monkeypatch.setattr(adjustments, "adjust", adjust)

    response = api.post(f"/api/v1/members/{member}/adjustments", {"points": -20, "reason": "two deadlocks"})

    assert response.status_code == 201, response.text
    assert (len(runs), response.json()["balance"]["available"]) == (3, 30)
    assert [item["points"] for item in ledger_items(api, member) if item["kind"] == "adjust"] == [-20]


def test_a_redemption_the_database_gives_up_runs_again_whole_and_spends_once(
    api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = api.member()
    assert api.post(f"/api/v1/members/{member}/adjustments", {"points": 450, "reason": "gift"}).status_code == 201
    redeem, runs = given_up(1, rewards.redeem)
    monkeypatch.setattr(rewards, "redeem", redeem)

    response = api.post(
        f"/api/v1/members/{member}/redemptions", {"reward": "five-euro-off"}, headers={"Idempotency-Key": "once"}
    )

    assert response.status_code == 201, response.text
    assert (len(runs), response.json()["balance"]["available"]) == (2, 0)
    assert len(api.get(f"/api/v1/members/{member}/coupons").json()["items"]) == 1
    assert sum(item["points"] for item in ledger_items(api, member) if item["kind"] == "spend") == -500  # 2 lots


def test_a_request_the_database_gives_up_three_times_is_answered_503_busy_try_again_and_changes_nothing(
    api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    member = api.member()
    before = ledger_items(api, member)
    adjust, runs = given_up(3, adjustments.adjust)
    monkeypatch.setattr(adjustments, "adjust", adjust)

    response = api.post(f"/api/v1/members/{member}/adjustments", {"points": 5, "reason": "always deadlocked"})

    error_of(response, 503, "busy_try_again")
    assert response.headers["Retry-After"] == "1"
    assert len(runs) == 3
    assert ledger_items(api, member) == before
    assert api.available(member) == 50
