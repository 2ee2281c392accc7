"""Ledger properties under any sequence of purchases, refunds, redemptions, adjustments, custom events and scheduled
runs, for every return policy: balances equal their entries and lots, and every point earned is accounted for.

The accounting identity checked after every step, over the member's ``points`` and ``pending_points`` entries (each
term below is a non-negative number of points):

- ``earned``       = sum of ``earn`` entries + sum of positive ``adjust`` entries (every one of them opened a lot)
- ``spent``        = -(sum of ``spend`` entries)                 (redemptions)
- ``expired``      = -(sum of ``expire`` entries)
- ``adjusted_out`` = -(sum of negative ``adjust`` entries)       (staff corrections downwards)
- ``reversed``     = -(sum of ``reverse`` entries)               (refunds, including what became debt)
- ``debt``         = -(sum of lot-less ``points`` entries)       (reversals no lot covered, minus what was repaid)
- ``taken_back``   = ``reversed`` - ``debt``: what refunds actually removed from lots, directly or by repayment
- ``vest`` and ``repay_debt`` entries move points between accounts or lots and add up to zero

    earned == available + pending + spent + expired + reversed + adjusted_out
           == available + pending + spent + expired + taken_back + adjusted_out + debt

The second line is the issue's "earned = available + spent + expired + reversed (+ debt)": with ``reversed`` read as
what was taken back, the debt still owed is the part of the reversal that the (lower) available balance already
shows but no lot has paid. The lots say the same from their side: the lots hold exactly ``earned``, the points left
in available lots minus the debt are the available balance, and what left the lots is
``spent + expired + adjusted_out + taken_back``.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.event.models import Event, Order
from punchcard.jobs import service as jobs
from punchcard.kit.events import DomainEvent
from punchcard.kit.http import get_now
from punchcard.ledger.domain import (
    Account,
    EntryKind,
    PointsAdjusted,
    PointsEarned,
    PointsExpired,
    PointsReversed,
)
from punchcard.ledger.models import LedgerEntry, Lot
from punchcard.ledger.verify import verify
from punchcard.member.domain import MemberEnrolled
from punchcard.member.models import Member
from punchcard.outbox.models import OutboxEvent
from punchcard.reward.domain import RewardRedeemed
from tests.factories import ApiClient, ProgramMaker, earned, reversed_points

START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
PRODUCTS = [("BEANS", "coffee-beans"), ("MUG", "merch"), ("GIFT", "gift-cards"), ("CAKE", "food")]
COSTS = {"free-drink": 150, "five-euro-off": 500}
POLICIES = [
    pytest.param({"return_policy": "unlimited", "pending_days": 0}, id="unlimited"),
    pytest.param({"return_policy": "unlimited", "pending_days": 10}, id="unlimited-pending"),
    pytest.param({"return_policy": "within_balance", "pending_days": 0}, id="within_balance"),
    pytest.param({"return_policy": "only_pending", "pending_days": 14}, id="only_pending"),
]


# --- operations --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Purchase:
    lines: tuple[tuple[int, int, int], ...]  # (product index, quantity, unit price in cents), one line per product
    shipping_cents: int


@dataclass(frozen=True)
class RefundAmount:
    order: int  # index into the orders so far, modulo their number
    parts: int  # refund 1/parts of what was paid (at most what is left); 0 asks for more than is left: refused


@dataclass(frozen=True)
class RefundLine:
    order: int
    line: int
    quantity: int


@dataclass(frozen=True)
class RefundRest:
    order: int
    by_amount: bool  # the amount left to refund, or every line quantity left


@dataclass(frozen=True)
class Redeem:
    reward: str


@dataclass(frozen=True)
class Adjust:
    points: int


@dataclass(frozen=True)
class Review:
    pass


@dataclass(frozen=True)
class Advance:
    hours: int
    run_jobs: bool


Operation = Purchase | RefundAmount | RefundLine | RefundRest | Redeem | Adjust | Review | Advance

prices = st.one_of(st.sampled_from([100, 300, 700, 1000, 1250]), st.integers(1, 6000))  # cents; round ones often
purchases = st.builds(
    Purchase,
    lines=st.lists(
        st.tuples(st.integers(0, len(PRODUCTS) - 1), st.integers(1, 3), prices),
        min_size=1,
        max_size=3,
        unique_by=lambda line: line[0],
    ).map(tuple),
    shipping_cents=st.sampled_from([0, 0, 490]),
)
operations: st.SearchStrategy[Operation] = st.one_of(
    purchases,
    purchases,
    st.builds(RefundAmount, order=st.integers(0, 20), parts=st.integers(0, 7)),
    st.builds(RefundLine, order=st.integers(0, 20), line=st.integers(0, 2), quantity=st.integers(1, 3)),
    st.builds(RefundRest, order=st.integers(0, 20), by_amount=st.booleans()),
    st.builds(Redeem, reward=st.sampled_from(sorted(COSTS))),
    st.builds(Redeem, reward=st.sampled_from(sorted(COSTS))),
    st.builds(Adjust, points=st.one_of(st.integers(1, 1200), st.integers(-400, -1))),
    st.just(Review()),
    st.builds(Advance, hours=st.integers(1, 24 * 120), run_jobs=st.booleans()),
)


# --- the test's own record of what it sent ---------------------------------------------------------------------------


@dataclass
class OrderSent:
    order_id: str
    lines: dict[str, tuple[int, int]]  # sku -> (quantity, unit price in cents)
    paid_cents: int
    refunded_cents: int = 0
    refunded: dict[str, int] = field(default_factory=dict)

    def left(self, sku: str) -> int:
        return self.lines[sku][0] - self.refunded.get(sku, 0)

    @property
    def fully_refunded(self) -> bool:
        lines_done = all(self.left(sku) == 0 for sku in self.lines)
        return lines_done or self.refunded_cents >= self.paid_cents


@dataclass
class Clock:
    now: datetime = START


def cents(amount: int) -> str:
    return f"{Decimal(amount) / 100:.2f}"


# --- reading the ledger straight from the tables -----------------------------------------------------------------


def member_id(session: Session, api: ApiClient, external_id: str) -> int:
    return session.execute(
        select(Member.id).where(Member.program_id == api.program_id, Member.external_id == external_id)
    ).scalar_one()


def point_entries(session: Session, member: int) -> list[LedgerEntry]:
    accounts = [Account.POINTS.value, Account.PENDING_POINTS.value]
    return list(
        session.execute(
            select(LedgerEntry).where(LedgerEntry.member_id == member, LedgerEntry.account.in_(accounts))
        ).scalars()
    )


def entry_count(engine: Engine, member: int) -> int:
    with Session(engine) as session:
        return len(session.execute(select(LedgerEntry.id).where(LedgerEntry.member_id == member)).all())


def spendable_at(engine: Engine, member: int, now: datetime) -> int:
    """The available balance a request at ``now`` sees once it has vested and expired what is due."""
    with Session(engine) as session:
        lots = session.execute(select(Lot).where(Lot.member_id == member)).scalars().all()
        entries = point_entries(session, member)
    usable = sum(
        lot.remaining
        for lot in lots
        if (not lot.is_pending or (lot.available_at is not None and lot.available_at <= now))
        and (lot.expires_at is None or lot.expires_at > now)
    )
    return usable - debt_of(entries)


def debt_of(entries: list[LedgerEntry]) -> int:
    return -sum(e.amount for e in entries if e.account == Account.POINTS.value and e.lot_id is None)


def total(entries: list[LedgerEntry], kind: EntryKind, *, sign: int = 0, with_lot: bool | None = None) -> int:
    """Sum of the ``kind`` entries' amounts (only positive or negative ones when ``sign`` says so)."""
    return sum(
        e.amount
        for e in entries
        if e.kind == kind.value
        and (sign == 0 or e.amount * sign > 0)
        and (with_lot is None or (e.lot_id is not None) == with_lot)
    )


def check_invariants(api: ApiClient, engine: Engine, external_id: str, policy: str, sent: list[OrderSent]) -> None:
    points = api.points(external_id)
    with Session(engine) as session:
        member = member_id(session, api, external_id)
        entries = point_entries(session, member)
        lots = session.execute(select(Lot).where(Lot.member_id == member)).scalars().all()
        orders = session.execute(select(Order).where(Order.member_id == member)).scalars().all()

    # Balances shown by the API are the sums of their accounts' entries.
    available, pending, debt = points["available"], points["pending"], points["debt"]
    assert available == sum(e.amount for e in entries if e.account == Account.POINTS.value)
    assert pending == sum(e.amount for e in entries if e.account == Account.PENDING_POINTS.value)
    assert debt == debt_of(entries) >= 0
    if policy != "unlimited":
        assert debt == 0
        assert available >= 0

    # Entries have the sign their kind says; moves between accounts and lots add up to zero.
    for entry in entries:
        if entry.kind in (EntryKind.SPEND.value, EntryKind.EXPIRE.value, EntryKind.REVERSE.value):
            assert entry.amount < 0, entry.kind
        if entry.kind == EntryKind.EARN.value:
            assert entry.amount > 0
        if entry.kind != EntryKind.REVERSE.value and entry.kind != EntryKind.REPAY_DEBT.value:
            assert entry.lot_id is not None, entry.kind  # only reversals and repayments touch the debt line
    assert total(entries, EntryKind.VEST) == 0
    assert total(entries, EntryKind.REPAY_DEBT) == 0

    # Lots: never below zero, never above what they were given; they back the balances exactly.
    assert all(0 <= lot.remaining <= lot.amount for lot in lots)
    assert sum(lot.remaining for lot in lots if not lot.is_pending) - debt == available
    assert sum(lot.remaining for lot in lots if lot.is_pending) == pending
    if debt > 0:
        event("member in debt")
        assert all(lot.remaining == 0 for lot in lots if not lot.is_pending), "debt is paid before points are kept"

    # The accounting identity (see the module docstring).
    earned_total = total(entries, EntryKind.EARN) + total(entries, EntryKind.ADJUST, sign=1)
    spent = -total(entries, EntryKind.SPEND)
    expired = -total(entries, EntryKind.EXPIRE)
    adjusted_out = -total(entries, EntryKind.ADJUST, sign=-1)
    reversed_total = -total(entries, EntryKind.REVERSE)
    taken_back = -total(entries, EntryKind.REVERSE, with_lot=True) - total(entries, EntryKind.REPAY_DEBT, sign=-1)
    assert points["lifetime_earned"] == earned_total
    assert earned_total == available + pending + spent + expired + reversed_total + adjusted_out
    assert reversed_total == taken_back + debt
    assert earned_total == available + pending + spent + expired + taken_back + adjusted_out + debt
    assert sum(lot.amount for lot in lots) == earned_total
    assert sum(lot.amount - lot.remaining for lot in lots) == spent + expired + adjusted_out + taken_back

    # Per order: refunds never take back more than the order earned.
    for order in orders:
        order_entries = [e for e in entries if e.order_id == order.order_id]
        order_earned = total(order_entries, EntryKind.EARN)
        order_reversed = -total(order_entries, EntryKind.REVERSE)
        assert order_earned == order.points_earned
        assert 0 <= order_reversed <= order.points_reversed <= order.points_earned
        if policy == "unlimited":
            assert order_reversed == order.points_reversed  # nothing is forgiven

    # A whole order refunded, in one part or several, by lines or by amounts, has reversed exactly what it earned.
    by_id = {order.order_id: order for order in orders}
    for order_sent in sent:
        row = by_id[order_sent.order_id]
        assert row.refunded_minor == order_sent.refunded_cents
        if order_sent.fully_refunded:
            assert row.points_reversed == row.points_earned, order_sent

    # Double entry: every transfer sums to zero per asset; every lot and every account row equals its entries.
    with Session(engine) as session:
        assert verify(session, api.program_id).problems == []

    # The outbox holds exactly one event per committed change, and none for a refused one: what its events say
    # adds up to what the ledger did.
    with Session(engine) as session:
        query = select(OutboxEvent.type, OutboxEvent.payload).where(OutboxEvent.member_id == member)
        events = [(event_type, payload) for event_type, payload in session.execute(query)]
    told = Counter(event_type for event_type, _ in events)
    assert told[MemberEnrolled.type] == 1
    assert told[PointsEarned.type] == len({e.lot_id for e in entries if e.kind == EntryKind.EARN.value})
    assert said(events, PointsEarned) == total(entries, EntryKind.EARN)
    assert said(events, PointsReversed) == reversed_total
    assert said(events, PointsExpired) == expired
    assert said(events, PointsAdjusted) == total(entries, EntryKind.ADJUST)
    assert said(events, RewardRedeemed, "points_spent") == spent


def said(events: Sequence[tuple[str, dict[str, Any]]], kind: type[DomainEvent], field: str = "points") -> int:
    """The sum of ``field`` over the outbox events of ``kind``."""
    return sum(int(payload[field]) for event_type, payload in events if event_type == kind.type)


def event_entries(engine: Engine, api: ApiClient, event_id: str, kind: EntryKind) -> int:
    with Session(engine) as session:
        return int(
            sum(
                session.execute(
                    select(LedgerEntry.amount)
                    .join(Event, Event.id == LedgerEntry.event_id)
                    .where(
                        Event.program_id == api.program_id,
                        Event.external_id == event_id,
                        LedgerEntry.kind == kind.value,
                        LedgerEntry.account.in_([Account.POINTS.value, Account.PENDING_POINTS.value]),
                    )
                ).scalars()
            )
        )


# --- running one sequence --------------------------------------------------------------------------------------------


@dataclass
class Run:
    api: ApiClient
    engine: Engine
    clock: Clock
    member: str
    member_id: int
    policy: str
    orders: list[OrderSent] = field(default_factory=list)

    @property
    def at(self) -> str:
        return self.clock.now.isoformat()

    def event(self, body: dict[str, Any]) -> dict[str, Any]:
        body = {"id": self.api.next_id("evt"), "member_external_id": self.member, "occurred_at": self.at, **body}
        response = self.api.post("/api/v1/events", body)
        assert response.status_code == 201, response.text
        result = dict(response.json())
        result["id"] = body["id"]
        return result

    def refund(self, order: OrderSent, **refund: Any) -> None:
        result = self.event({"type": "refund", "order_id": order.order_id, "currency": "EUR", **refund})
        assert reversed_points(result) == -event_entries(self.engine, self.api, result["id"], EntryKind.REVERSE)
        event("refund: points taken back" if reversed_points(result) else "refund: nothing taken back")
        if any("not_taken_back" in effect for effect in result["effects"]):
            event("refund: the return policy forgave points")

    def refused(self, response: Any, status: int, code: str, before: tuple[dict[str, Any], int]) -> None:
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == code
        event(f"refused: {code}")
        assert (self.api.points(self.member), entry_count(self.engine, self.member_id)) == before

    def state(self) -> tuple[dict[str, Any], int]:
        return self.api.points(self.member), entry_count(self.engine, self.member_id)

    def apply(self, operation: Operation) -> None:
        if isinstance(operation, Purchase):
            self.purchase(operation)
        elif isinstance(operation, Advance):
            self.clock.now += timedelta(hours=operation.hours)
            if operation.run_jobs:
                report = jobs.run(
                    self.engine, at=self.clock.now, now=self.clock.now, batch_size=3, only=[self.api.slug]
                )
                event(f"jobs: lots expired {bool(report.lots_expired)}, vested {bool(report.lots_vested)}")
        elif isinstance(operation, Review):
            self.event({"type": "review_submitted", "attributes": {"stars": 5}})
        elif isinstance(operation, Redeem):
            self.redeem(operation.reward)
        elif isinstance(operation, Adjust):
            self.adjust(operation.points)
        elif self.orders:
            order = self.orders[operation.order % len(self.orders)]
            if isinstance(operation, RefundAmount):
                self.refund_amount(order, operation.parts)
            elif isinstance(operation, RefundLine):
                self.refund_line(order, operation.line, operation.quantity)
            else:
                self.refund_rest(order, by_amount=operation.by_amount)

    def purchase(self, operation: Purchase) -> None:
        order_id = self.api.next_id("order")
        lines = {PRODUCTS[product][0]: (quantity, price) for product, quantity, price in operation.lines}
        body_lines = [
            {
                "sku": PRODUCTS[product][0],
                "category": PRODUCTS[product][1],
                "quantity": quantity,
                "unit_price": cents(price),
            }
            for product, quantity, price in operation.lines
        ]
        result = self.event(
            {
                "type": "purchase",
                "order_id": order_id,
                "currency": "EUR",
                "lines": body_lines,
                "shipping": cents(operation.shipping_cents),
            }
        )
        assert earned(result) == event_entries(self.engine, self.api, result["id"], EntryKind.EARN)
        paid = sum(quantity * price for quantity, price in lines.values()) + operation.shipping_cents
        self.orders.append(OrderSent(order_id, lines, paid))

    def refund_amount(self, order: OrderSent, parts: int) -> None:
        left = order.paid_cents - order.refunded_cents
        if parts == 0:
            before = self.state()
            body = {
                "id": self.api.next_id("refund"),
                "type": "refund",
                "member_external_id": self.member,
                "occurred_at": self.at,
                "order_id": order.order_id,
                "currency": "EUR",
                "amount": cents(left + 1),
            }
            self.refused(self.api.post("/api/v1/events", body), 422, "refund_exceeds_order", before)
            return
        if left <= 0:
            return
        amount = min(max(order.paid_cents // parts, 1), left)
        self.refund(order, amount=cents(amount))
        order.refunded_cents += amount

    def refund_line(self, order: OrderSent, line: int, quantity: int) -> None:
        skus = sorted(order.lines)
        sku = skus[line % len(skus)]
        quantity = min(quantity, order.left(sku))
        if quantity == 0:
            return
        self.refund_lines(order, {sku: quantity})

    def refund_lines(self, order: OrderSent, quantities: dict[str, int]) -> None:
        """Refund line quantities; lines worth more than the money not yet refunded are refused."""
        value = sum(quantity * order.lines[sku][1] for sku, quantity in quantities.items())
        refund_lines = [{"sku": sku, "quantity": quantity} for sku, quantity in quantities.items()]
        if value > order.paid_cents - order.refunded_cents:
            before = self.state()
            body = {
                "id": self.api.next_id("refund"),
                "type": "refund",
                "member_external_id": self.member,
                "occurred_at": self.at,
                "order_id": order.order_id,
                "currency": "EUR",
                "refund_lines": refund_lines,
            }
            self.refused(self.api.post("/api/v1/events", body), 422, "refund_exceeds_order", before)
            return
        self.refund(order, refund_lines=refund_lines)
        for sku, quantity in quantities.items():
            order.refunded[sku] = order.refunded.get(sku, 0) + quantity
        order.refunded_cents += value

    def refund_rest(self, order: OrderSent, *, by_amount: bool) -> None:
        rest = {sku: order.left(sku) for sku in order.lines if order.left(sku) > 0}
        if rest and not by_amount:
            self.refund_lines(order, rest)
        elif order.paid_cents > order.refunded_cents:
            left = order.paid_cents - order.refunded_cents
            self.refund(order, amount=cents(left))
            order.refunded_cents += left

    def redeem(self, reward: str) -> None:
        before = self.state()
        can_pay = spendable_at(self.engine, self.member_id, self.clock.now) >= COSTS[reward]
        response = self.api.post(
            f"/api/v1/members/{self.member}/redemptions",
            {"reward": reward},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if not can_pay:
            self.refused(response, 422, "insufficient_points", before)
            return
        assert response.status_code == 201, response.text
        assert response.json()["points_spent"] == COSTS[reward]
        event("redeemed")

    def adjust(self, points: int) -> None:
        before = self.state()
        can_pay = points > 0 or spendable_at(self.engine, self.member_id, self.clock.now) >= -points
        response = self.api.post(f"/api/v1/members/{self.member}/adjustments", {"points": points, "reason": "test"})
        if not can_pay:
            self.refused(response, 422, "insufficient_points", before)
            return
        assert response.status_code == 201, response.text


@pytest.fixture
def clock(make_program: ProgramMaker) -> Iterator[Clock]:
    """The API's clock, held still and moved only by the sequence's ``Advance`` steps."""
    frozen = Clock()
    overrides = make_program.client.app.dependency_overrides  # type: ignore[attr-defined]
    overrides[get_now] = lambda: frozen.now
    try:
        yield frozen
    finally:
        overrides.pop(get_now, None)


@pytest.mark.parametrize("points_policy", POLICIES)
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(opening=st.integers(0, 1500), steps=st.lists(operations, min_size=4, max_size=16))
# A 9-point order refunded in three equal amounts: the parts' Decimal fractions add up to 0.99...9, not 1.
@example(opening=0, steps=[Purchase(((1, 3, 300),), 0), RefundAmount(0, 3), RefundAmount(0, 3), RefundAmount(0, 3)])
# Points spent, then their order refunded: debt (unlimited) or forgiven (the others); the next purchase pays it back.
@example(
    opening=0,
    steps=[
        Purchase(((1, 3, 6000),), 490),
        Redeem("free-drink"),
        RefundRest(0, by_amount=False),
        Purchase(((0, 2, 2500),), 0),
        Advance(24 * 100, run_jobs=True),
    ],
)
def test_balances_always_equal_the_entries_and_every_point_is_accounted_for(
    points_policy: dict[str, Any],
    opening: int,
    steps: list[Operation],
    make_program: ProgramMaker,
    engine: Engine,
    clock: Clock,
) -> None:
    # Given a program with the policy, points that expire after 90 days, and a member with the welcome bonus and an
    # opening adjustment
    clock.now = START
    api = make_program({"points": {"expiry": {"after_months": None, "after_days": 90}, **points_policy}})
    external_id = api.member(enrolled_at=START.isoformat())
    with Session(engine) as session:
        run = Run(api, engine, clock, external_id, member_id(session, api, external_id), points_policy["return_policy"])
    if opening:
        run.adjust(opening)
    check_invariants(api, engine, external_id, run.policy, run.orders)
    # When any sequence of operations happens, then after every step the ledger adds up
    for step in steps:
        run.apply(step)
        check_invariants(api, engine, external_id, run.policy, run.orders)
