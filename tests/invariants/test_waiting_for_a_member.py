"""An event that waited for a member's lock sees everything the event holding it committed.

On PostgreSQL a statement reads other tables as they were when it started, while its ``FOR UPDATE`` hands back the
member's newest row once the lock is free. The event path once read the member's balances and tier credits in the
very statement that locks the member: an event queued behind another one counted the member as before it, and the
hot-member benchmark found tier upgrades that came late and points that went missing. These tests hold one event
open, queue a second behind it, and only then let the first commit.
"""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.event import repository as events_repository
from punchcard.event import service as events
from punchcard.event.schemas import EventIn
from punchcard.kit.idempotency import request_hash
from punchcard.ledger import repository as ledger
from punchcard.member.models import Member
from punchcard.program import service as programs
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, at_moment, earned, ledger_items, line
from tests.invariants.waiting import waits_for_a_lock


@pytest.fixture
def api(make_program: ProgramMaker, engine: Engine) -> ApiClient:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take turns (BEGIN IMMEDIATE): an event never reads while another one writes")
    return make_program()


def purchase(api: ApiClient, member: str, beans: str, order_id: str | None = None) -> EventIn:
    """A purchase of coffee beans: 2 points (and tier credits) per euro in the demo program, times the tier's
    multiplier."""
    lines = [line("BEANS-1", "coffee-beans", beans)]
    return event(api, member, "purchase", order_id=order_id or api.next_id("order"), lines=lines)


def event(api: ApiClient, member: str, kind: str, **fields: Any) -> EventIn:
    body = {"id": api.next_id("evt"), "type": kind, "member_external_id": member, "currency": "EUR"}
    return EventIn.model_validate(body | {"occurred_at": "2026-06-01T12:00:00+00:00"} | fields)


def record(session: Session, api: ApiClient, body: EventIn) -> dict[str, Any]:
    """What ``POST /api/v1/events`` does with ``body``, in ``session``, without committing."""
    _, version = programs.for_key(session, f"Bearer {api.key}")
    outcome = events.record(session, version, body, request_hash(body.model_dump(mode="json")), NOW)
    assert outcome.status == 201, outcome.body
    return outcome.body


def record_and_commit(engine: Engine, api: ApiClient, body: EventIn) -> dict[str, Any]:
    with Session(engine) as session:
        answer = record(session, api, body)
        session.commit()
        return answer


def queued_behind(engine: Engine, api: ApiClient, first: EventIn, second: EventIn) -> tuple[dict[str, Any], ...]:
    """Record ``first`` and hold its transaction open; post ``second`` for the same member, wait until it waits for
    the member's lock, then commit ``first``. Returns both answers."""
    # The holder is closed (rolled back, if the test fails before it commits) before the pool waits for the second
    # event, which would otherwise wait for the holder's lock for ever.
    with ThreadPoolExecutor(max_workers=1) as pool, Session(engine) as holder:
        first_answer = record(holder, api, first)
        waiting = pool.submit(record_and_commit, engine, api, second)
        waits_for_a_lock(engine, waiting)
        assert not waiting.done(), "the second event did not wait for the member the first one held"
        holder.commit()
        return first_answer, waiting.result()


def test_an_event_queued_behind_another_counts_its_tier_credits_and_moves_the_member_up(
    api: ApiClient, engine: Engine
) -> None:
    # Given a Bronze member (Silver from 500 tier credits) with the welcome bonus
    member = api.member()

    # When a 300-credit purchase is held open and a second one waits for the member behind it
    first, second = queued_behind(engine, api, purchase(api, member, "150.00"), purchase(api, member, "150.00"))

    # Then the second counts the first's 300 credits: 600 reach Silver, in the second event's answer
    assert (earned(first), earned(second)) == (300, 300)
    assert [effect for effect in second["effects"] if effect["type"] == "tier_changed"] == [
        {"type": "tier_changed", "from": "bronze", "to": "silver", "reason": "upgrade"}
    ]
    assert api.get(f"/api/v1/members/{member}").json()["tier"]["code"] == "silver"


def test_an_event_queued_behind_another_answers_with_the_balance_after_both(api: ApiClient, engine: Engine) -> None:
    # Given a member with the welcome bonus of 50
    member = api.member()

    # When a 40-point purchase is held open and a 60-point one waits for the member behind it
    first, second = queued_behind(engine, api, purchase(api, member, "20.00"), purchase(api, member, "30.00"))

    # Then the second answers with the balance after both, the one the ledger holds
    assert first["balance"]["available"] == 90
    assert second["balance"]["available"] == 150 == api.available(member)


def test_an_event_queued_behind_a_refund_that_left_a_debt_pays_the_debt_first(api: ApiClient, engine: Engine) -> None:
    # Given a member who spent the 50 points an order gave them and the 50 of the welcome bonus
    member = api.member()
    record_and_commit(engine, api, purchase(api, member, "25.00", order_id="O-1"))
    spent = api.post(f"/api/v1/members/{member}/adjustments", {"points": -100, "reason": "spent elsewhere"})
    assert spent.status_code == 201, spent.text

    # When the order's refund (a debt of 50) is held open and a 30-point purchase waits for the member behind it
    refund = event(api, member, "refund", order_id="O-1", amount="25.00", occurred_at="2026-06-02T12:00:00+00:00")
    later = purchase(api, member, "15.00").model_copy(update={"occurred_at": datetime(2026, 6, 3, 12, tzinfo=UTC)})
    _, second = queued_behind(engine, api, refund, later)

    # Then the purchase's 30 points pay the refund's debt first, as they would have one after the other
    assert second["balance"]["available"] == -20
    points = api.points(member)
    assert (points["available"], points["debt"]) == (-20, 20)
    repaid = [e["points"] for e in ledger_items(api, member) if e["kind"] == "repay_debt" and e["lot_id"] is None]
    assert repaid == [30]


def test_what_postgresql_reads_after_the_lock_equals_the_ledgers_own_reads(
    make_program: ProgramMaker, engine: Engine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("the function behind the arrival's reads (migration 0009) is PostgreSQL's")
    # Given a member who spent everything, then had an order refunded (a debt of 100), and then earned 20 points that
    # are pending for 14 days and expire a year later
    api = make_program({"points": {"pending_days": 14}})
    member = api.member(enrolled_at="2025-01-01T12:00:00+00:00")
    api.purchase(member, [line("KETTLE", "brewing", "100.00")], order_id="O-1", occurred_at="2025-06-01T12:00:00+00:00")
    spend = {"points": -150, "reason": "spent elsewhere"}
    assert at_moment(
        api, "2025-07-01T12:00:00+00:00", "POST", f"/api/v1/members/{member}/adjustments", spend
    ).is_success
    api.refund(member, "O-1", amount="100.00", occurred_at="2025-07-02T12:00:00+00:00")
    api.purchase(member, [line("BEANS-1", "coffee-beans", "10.00")], occurred_at="2025-07-03T12:00:00+00:00")

    # When the arrival reads them before the lot vests, once it is due to vest, and once it is due to expire too, with
    # each kind of tier window
    moments = [datetime(2025, 7, 10, tzinfo=UTC), datetime(2025, 8, 1, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC)]
    windows = [None, (None, moments[1]), (datetime(2025, 6, 15, tzinfo=UTC), moments[2])]
    seen = []
    with Session(engine) as session:
        member_id = session.execute(select(Member.id).where(Member.external_id == member)).scalar_one()
        for at, window in itertools.product(moments, windows):
            arrival = events_repository.arrival(session, api.program_id, member, "none", None, at, window)
            session.rollback()

            # Then it reads what the ledger's own queries read
            assert arrival.due == ledger.due(session, member_id, at)
            assert arrival.known is not None
            assert arrival.known.balances == ledger.balances(session, member_id)
            if window is not None:
                assert arrival.known.credits == ledger.tier_credits(session, member_id, *window) != 0
            seen.append((arrival.due.vest, arrival.due.expire, arrival.due.debt))
    assert set(seen) == {(False, False, 100), (True, False, 100), (True, True, 100)}
