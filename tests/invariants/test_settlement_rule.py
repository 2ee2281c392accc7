"""The one settlement rule (``ledger.domain.settle``) and the nightly jobs' set-wise SQL (``ledger.settlement``) give
the same answers: on generated histories (purchases inside and outside a return window, spending, refunds that leave
debt), what the rule decides for each member at a moment is exactly what ``jobs run`` at that moment leaves."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from punchcard.jobs import service as jobs
from punchcard.ledger import repository as ledger_queries
from punchcard.ledger.domain import OpenLot, Settlement, settle
from punchcard.ledger.verify import verify
from punchcard.member import repository as members
from tests.clock import NOW
from tests.factories import ProgramMaker, line

purchases = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 80), st.integers(1, 60)),  # member, days ago, euros
    min_size=1,
    max_size=10,
)


def still_open(lots: list[OpenLot], plan: Settlement) -> dict[int, tuple[int, bool]]:
    """The lots that are still open after ``plan`` (points left, or pending): (remaining, is_pending) by id."""
    state = {lot.lot_id: (lot.remaining, lot.is_pending) for lot in lots}
    for lot in plan.vest:
        state[lot.lot_id] = (state[lot.lot_id][0], False)
    taken = [(take.lot_id, take.points) for take in plan.repay] + [(gone.lot_id, gone.points) for gone in plan.expire]
    for lot_id, points in taken:
        state[lot_id] = (state[lot_id][0] - points, state[lot_id][1])
    return {lot_id: (left, pending) for lot_id, (left, pending) in state.items() if left > 0 or pending}


# Debt repaid by points that vest later: an older order refunded after everything available was spent.
@example(bought=[(0, 30, 20), (0, 2, 30)], spent=[], drained=[0], refunded=[0], pending_days=14, later=20)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    bought=purchases,
    spent=st.lists(st.tuples(st.integers(0, 2), st.integers(1, 120)), max_size=3),
    drained=st.lists(st.integers(0, 2), max_size=3),
    refunded=st.lists(st.integers(0, 9), max_size=4),
    pending_days=st.sampled_from([0, 14]),
    later=st.integers(0, 120),
)
def test_the_nightly_jobs_leave_what_the_settlement_rule_decides(
    make_program: ProgramMaker,
    engine: Engine,
    bought: list[tuple[int, int, int]],
    spent: list[tuple[int, int]],
    drained: list[int],
    refunded: list[int],
    pending_days: int,
    later: int,
) -> None:
    # Given three members' purchases over the last 80 days, points that expire after 60 days, some spent, some
    # orders refunded after that (under "unlimited", a refund of spent points leaves debt)
    api = make_program({"points": {"expiry": {"after_months": None, "after_days": 60}, "pending_days": pending_days}})
    people = [api.member() for _ in range(3)]
    orders: list[tuple[str, str]] = []
    for member, days_ago, euros in sorted(bought, key=lambda purchase: -purchase[1]):
        moment = (NOW - timedelta(days=days_ago)).isoformat()
        order = api.next_id("order")
        api.purchase(people[member], [line("MUG", "merch", f"{euros}.00")], order_id=order, occurred_at=moment)
        orders.append((people[member], order))
    for member, points in spent:
        api.post(f"/api/v1/members/{people[member]}/adjustments", {"points": -points, "reason": "spent"})
    for member in set(drained):  # everything available spent: a refund then takes from pending points, or is debt
        if (available := api.available(people[member])) > 0:
            api.post(f"/api/v1/members/{people[member]}/adjustments", {"points": -available, "reason": "all of it"})
    for index in sorted(set(refunded)):
        if index < len(orders):
            person, order = orders[index]
            api.refund(person, order, occurred_at=NOW.isoformat(), refund_lines=[{"sku": "MUG", "quantity": 1}])
    at = NOW + timedelta(days=later)
    # When the rule decides for each member at a later moment
    expected: dict[int, tuple[dict[int, tuple[int, bool]], int]] = {}
    with Session(engine) as session:
        for person in people:
            member_id = members.get(session, api.program_id, person).id
            lots, owed = ledger_queries.open_lots(session, member_id), ledger_queries.debt(session, member_id)
            plan = settle(lots, owed, at)
            event(f"vest {bool(plan.vest)}, repay {bool(plan.repay)}, expire {bool(plan.expire)}")
            expected[member_id] = (still_open(lots, plan), owed - plan.repaid)
        session.rollback()
    # And the nightly jobs run at that moment
    jobs.run(engine, at=at, now=at, batch_size=3, only=[api.slug])
    # Then every lot and every debt is what the rule decided, and the ledger balances
    with Session(engine) as session:
        for member_id, (open_after, debt_after) in expected.items():
            found = {
                lot.lot_id: (lot.remaining, lot.is_pending) for lot in ledger_queries.open_lots(session, member_id)
            }
            assert found == open_after
            assert ledger_queries.debt(session, member_id) == debt_after
        assert verify(session, api.program_id).problems == []
