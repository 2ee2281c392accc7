"""The ledger's invariants with challenge and streak prizes in play (the operations of
``tests.invariants.test_ledger_invariants``, on a program with a challenge to join, a monthly spend challenge with a
coupon and a weekly streak, points pending in a return window), and the prizes' own: each prize given once per
completion, taken back at most once and then exactly, a completion standing exactly when its prize does, and the
explorer's progress what the orders the test sent still give."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.challenge.domain import Window, WindowKind
from punchcard.challenge.models import BadgeAward, ChallengeProgress
from punchcard.ledger.domain import Account, EntryKind, PointsEarned, PointsReversed, PointsRevoked
from punchcard.ledger.models import LedgerEntry, Lot
from punchcard.ledger.verify import verify
from punchcard.outbox.models import OutboxEvent
from tests.challenge.games import BADGES, EXPLORER
from tests.factories import ApiClient, ProgramMaker, reversed_points
from tests.invariants import test_ledger_invariants as ledger_properties
from tests.invariants.test_ledger_invariants import (
    PRODUCTS,
    START,
    Advance,
    Clock,
    Operation,
    OrderSent,
    Purchase,
    RefundAmount,
    RefundLine,
    RefundRest,
    Run,
    event_entries,
    member_id,
    operations,
    purchases,
)

clock = ledger_properties.clock
"""The API's clock held still and moved only by ``Advance`` steps (the ledger properties' fixture)."""

GAMES: dict[str, Any] = {
    "points": {"pending_days": 10},
    "badges": [*BADGES, {"code": "weekly", "name": "Weekly", "levels": {"bronze": 1, "gold": 3}}],
    "challenges": [
        EXPLORER,
        {
            "code": "big-month",
            "name": "Big month",
            "goal": {"spend": "40.00"},
            "window": {"every": "month"},
            "prize": {"points": 100, "reward": "free-drink"},
        },
    ],
    "streaks": [
        {
            "code": "weekly",
            "name": "Weekly",
            "every": "week",
            "milestone": 2,
            "repeat": True,
            "freezes": 1,
            "prize": {"points": 20, "badge": "weekly"},
        }
    ],
}
PRIZES = {"challenge:explorer": 150, "challenge:big-month": 100, "streak:weekly": 20}
EXPLORER_WINDOW = Window(WindowKind.ROLLING, days=30).span(START, ZoneInfo("Europe/Tallinn"), START)
"""Explorer's window for a member who joins at ``START``."""


game_operations: st.SearchStrategy[Operation] = st.one_of(
    purchases,
    purchases,
    st.builds(RefundAmount, order=st.integers(0, 20), parts=st.integers(1, 4)),
    st.builds(RefundLine, order=st.integers(0, 20), line=st.integers(0, 2), quantity=st.integers(1, 3)),
    st.builds(RefundRest, order=st.integers(0, 20), by_amount=st.booleans()),
    st.builds(Advance, hours=st.integers(1, 24 * 12), run_jobs=st.booleans()),
    operations,
)
"""More purchases and refunds than the ledger's own mix, and time in days rather than months: prizes come, and are
taken back inside the return window, often."""


@dataclass
class GameRun(Run):
    """A ``Run`` that remembers when each order was placed, and whose refunds may also take prizes back
    (``points_revoked`` in the same event)."""

    placed: dict[str, datetime] = field(default_factory=dict)

    def purchase(self, operation: Purchase) -> None:
        super().purchase(operation)
        self.placed[self.orders[-1].order_id] = self.clock.now

    def refund(self, order: OrderSent, **refund: Any) -> None:
        result = self.event({"type": "refund", "order_id": order.order_id, "currency": "EUR", **refund})
        revoked = sum(effect["points"] for effect in result["effects"] if effect["type"] == "points_revoked")
        assert reversed_points(result) + revoked == -event_entries(
            self.engine, self.api, result["id"], EntryKind.REVERSE
        )


def told(engine: Engine, member: int) -> list[tuple[str, dict[str, Any]]]:
    with Session(engine) as session:
        query = select(OutboxEvent.type, OutboxEvent.payload).where(OutboxEvent.member_id == member)
        return [(kind, payload) for kind, payload in session.execute(query.order_by(OutboxEvent.id))]


def check(run: GameRun) -> None:
    member, engine = run.member_id, run.engine
    with Session(engine) as session:
        assert verify(session, run.api.program_id).problems == []
        entries = list(
            session.execute(
                select(LedgerEntry).where(
                    LedgerEntry.member_id == member,
                    LedgerEntry.account.in_([Account.POINTS.value, Account.PENDING_POINTS.value]),
                )
            ).scalars()
        )
        lots = list(session.execute(select(Lot).where(Lot.member_id == member)).scalars())
        rows = list(session.execute(select(ChallengeProgress).where(ChallengeProgress.member_id == member)).scalars())
        held = Counter(
            session.execute(
                select(BadgeAward.badge).where(BadgeAward.member_id == member, BadgeAward.revoked_at.is_(None))
            ).scalars()
        )
    events = told(engine, member)

    # The ledger: every reversal is told, by the refund (points.reversed) or by a prize taken back (points.revoked).
    reversed_total = -sum(entry.amount for entry in entries if entry.kind == EntryKind.REVERSE.value)
    said_reversed = sum(int(p["points"]) for kind, p in events if kind in (PointsReversed.type, PointsRevoked.type))
    assert reversed_total == said_reversed

    # Each prize's points are one lot of exactly the prize, told as points.earned with its cause.
    prize_lots = Counter(
        lot.id
        for lot in lots
        for entry in entries
        if entry.lot_id == lot.id
        and entry.kind == "earn"
        and (entry.rule_code or "").startswith(("challenge:", "streak:"))
    )
    prize_entries = [
        e for e in entries if e.kind == "earn" and (e.rule_code or "").startswith(("challenge:", "streak:"))
    ]
    assert all(entry.amount == PRIZES[entry.rule_code or ""] for entry in prize_entries)
    earned_events = [p for kind, p in events if kind == PointsEarned.type and p["cause"] in ("challenge", "streak")]
    assert sorted(p["lot_id"] for p in earned_events) == sorted(prize_lots)

    # A prize is taken back at most once, and then exactly: taken and forgiven add up to the prize.
    revoked = [p for kind, p in events if kind == PointsRevoked.type]
    event("a prize was taken back" if revoked else "no prize taken back")
    event(f"prizes given: {min(len(earned_events), 3)}+")
    sources = Counter(p["granted"] for p in revoked)
    assert all(count == 1 for count in sources.values()), sources
    for payload in revoked:
        prize = PRIZES[":".join(payload["granted"].split(":")[:2])]
        assert payload["points"] + payload["not_taken_back"] == prize

    # A challenge period is completed exactly when its completions outnumber its reversals, by one.
    completions = Counter((p["challenge"], p["period"]) for kind, p in events if kind == "challenge.completed")
    reversals = Counter((p["challenge"], p["period"]) for kind, p in events if kind == "challenge.reversed")
    for row in rows:
        if row.kind == "challenge":
            standing = completions[(row.code, row.period)] - reversals[(row.code, row.period)]
            assert standing == (1 if row.completed_at is not None else 0), (row.code, row.period)
    # ...and a badge is held as often as its prizes stand.
    streak_standing = sum(1 for kind, _ in events if kind == "streak.extended" and _["milestone"]) - sum(
        1 for kind, _ in events if kind == "streak.reversed"
    )
    explorer_standing = completions[("explorer", "")] - reversals[("explorer", "")]
    assert (held["weekly"], held["explorer"]) == (streak_standing, explorer_standing)

    # Explorer's progress, while it is not completed, is the categories of the orders placed in its window (joined
    # at START) that are not refunded whole, as the refunds told the mechanics ("1" in points.reversed): all its
    # points back is not a whole refund while a line that earned nothing (a gift card) is kept.
    told_whole = {p["order_id"] for kind, p in events if kind == PointsReversed.type and p["refunded_fraction"] == "1"}
    explorer = next((row for row in rows if row.code == "explorer"), None)
    if explorer is not None and explorer.completed_at is None:
        assert EXPLORER_WINDOW is not None
        categories = {
            dict(PRODUCTS)[sku]
            for order in run.orders
            if EXPLORER_WINDOW.contains(run.placed[order.order_id]) and order.order_id not in told_whole
            for sku in order.lines
        }
        assert explorer.current == len(categories)


@pytest.mark.parametrize("return_policy", ["unlimited", "within_balance"])
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(game_operations, min_size=6, max_size=18))
# All of an order's points refunded with its coffee, its gift card kept, then the rest of its money: whole only then.
@example(
    steps=[
        ledger_properties.Redeem(reward="five-euro-off"),
        RefundAmount(order=0, parts=1),
        Purchase(lines=((0, 1, 100), (2, 1, 100)), shipping_cents=0),
        RefundLine(order=0, line=0, quantity=1),
        RefundAmount(order=0, parts=1),
    ]
)
# Explorer completed by three orders, one of them refunded in parts inside the window, then the rest of it.
@example(
    steps=[
        Purchase(((0, 1, 1000),), 0),
        Purchase(((1, 1, 1200),), 0),
        Purchase(((3, 2, 900),), 0),
        RefundAmount(0, 3),
        RefundRest(0, by_amount=True),
        Advance(24 * 20, run_jobs=True),
    ]
)
# Two weeks in a row reach the weekly streak's milestone; the second week's order refunded in its window undoes it.
@example(
    steps=[
        Purchase(((1, 1, 500),), 0),
        Advance(24 * 7, run_jobs=False),
        Purchase(((1, 1, 500),), 490),
        RefundRest(1, by_amount=False),
        Advance(24 * 7, run_jobs=True),
        Purchase(((2, 1, 500),), 0),
    ]
)
def test_prizes_keep_the_ledger_balanced_and_are_taken_back_exactly(
    return_policy: str, steps: list[Operation], make_program: ProgramMaker, engine: Engine, clock: Clock
) -> None:
    # Given a program with challenges, a streak and a return window, and a member who joined explorer at START
    clock.now = START
    api: ApiClient = make_program({**GAMES, "points": {**GAMES["points"], "return_policy": return_policy}})
    external_id = api.member(enrolled_at=START.isoformat())
    assert api.post(f"/api/v1/members/{external_id}/challenges/explorer/join").status_code == 201
    with Session(engine) as session:
        run = GameRun(api, engine, clock, external_id, member_id(session, api, external_id), return_policy)
    # When any sequence of purchases, refunds, redemptions, adjustments, reviews and time happens, then after every
    # step the ledger and the prizes add up
    for step in steps:
        run.apply(step)
        check(run)
