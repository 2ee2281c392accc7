"""The ledger invariants with the engagement mechanics in play, under any interleaving of enrolments (some with a
friend's referral code), purchases (some reaching the referral's minimum), refunds in parts and in full, joining a
challenge, redemptions, the outbox handed on, events sent again, and time passing with the scheduled jobs run across
birthdays, challenge months and streak weeks.

After every step, for every member: the balances are their entries and lots, every transfer balances (double entry),
no balance is spent below zero unless the return policy allows debt, and every point is told to the outbox. Across
the program: each side of a referral is paid at most once, its reward is one ``earn`` of exactly its points, and a
referral is reversed exactly when its qualifying order is refunded in full (each side it paid taken back once, never
more than it gave), within the referrer's monthly cap; each challenge period stands completed at most once and each
prize is taken back at most once, exactly; each member gets one birthday gift a year, exactly those the pure rule
(``celebration.domain.due``) calls for at the runs' moments; and an event sent again, or a jobs run repeated at the
same moment, changes nothing.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from punchcard.celebration.domain import Celebrant, Gift, Occasion, due
from punchcard.celebration.models import CelebrationGift
from punchcard.challenge.models import BadgeAward, ChallengeProgress
from punchcard.event.models import Order
from punchcard.jobs import service as jobs
from punchcard.kit.calendar import local_date
from punchcard.ledger.domain import Account, EntryKind, PointsEarned, PointsExpired, PointsReversed, PointsRevoked
from punchcard.ledger.models import LedgerEntry, Lot
from punchcard.ledger.verify import verify
from punchcard.member.domain import MemberEnrolled
from punchcard.member.models import Member
from punchcard.outbox.models import OutboxEvent
from punchcard.referral.models import Referral
from punchcard.reward.domain import RewardRedeemed
from tests.challenge.test_challenge_properties import GAMES, PRIZES
from tests.conftest import Clock
from tests.factories import ApiClient, ProgramMaker, deliver_outbox
from tests.invariants.test_ledger_invariants import (
    COSTS,
    Advance,
    OrderSent,
    RefundAmount,
    RefundLine,
    RefundRest,
    cents,
    debt_of,
    point_entries,
    said,
    spendable_at,
    total,
)

START = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
"""A Monday in January: birthdays, month ends and weeks come round within a sequence."""
ZONE = ZoneInfo("Europe/Tallinn")
PRODUCTS = [("BEANS", "coffee-beans"), ("MUG", "merch"), ("CAKE", "food"), ("TEA", "tea")]
"""Every product earns points; an order keeping a line that earned nothing (a gift card) while the others are refunded
is specified by ``tests.referral.test_referral_refunds`` and ``tests.challenge.test_challenge_refunds``."""
MIN_ORDER_CENTS = 2000
PER_MONTH = 2
REFERRAL_POINTS = {"referee": 100, "referrer": 200}
BIRTHDAY = Gift(points=100, catch_up_days=7, min_days_since_birth_date_change=30)
MAX_MEMBERS = 6
ENGAGEMENT: dict[str, Any] = {
    **GAMES,
    "timezone": "Europe/Tallinn",
    "referrals": {
        "referrer": {"points": REFERRAL_POINTS["referrer"]},
        "referee": {"points": REFERRAL_POINTS["referee"]},
        "qualify": {"on": "first_purchase", "min_order_total": cents(MIN_ORDER_CENTS)},
        "caps": {"per_month": PER_MONTH},
        "fraud_checks": {  # the friends here are honest: what the checks hold is the referral tests' business
            "self_referral": "reject",
            "velocity": "off",
            "signups_from_one_source": "off",
            "existing_customer": "off",
            "referrers_own_order": "off",
        },
    },
    "birthday": {"points": BIRTHDAY.points, "catch_up_days": BIRTHDAY.catch_up_days},
}
MODES = [
    pytest.param("at_once", "unlimited", id="pays-at-once-unlimited"),
    pytest.param("when_points_vest", "within_balance", id="pays-when-points-vest-within-balance"),
]


# --- operations --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Enrol:
    referrer: int | None  # index into the members so far, modulo their number; None: no code
    born: date


@dataclass(frozen=True)
class Buy:
    member: int
    lines: tuple[tuple[int, int, int], ...]  # (product index, quantity, unit price in cents), one line per product
    shipping_cents: int


@dataclass(frozen=True)
class Join:
    member: int


@dataclass(frozen=True)
class Redeem:
    member: int
    reward: str


@dataclass(frozen=True)
class Deliver:
    """The outbox handed to its consumers (the referrer's side of a referral is paid, or taken back, there)."""


@dataclass(frozen=True)
class Replay:
    event: int  # index into the events sent so far, modulo their number


Operation = Enrol | Buy | Join | Redeem | Deliver | Replay | RefundAmount | RefundLine | RefundRest | Advance

birth_dates = st.one_of(
    st.dates(date(1980, 1, 5), date(1980, 1, 25)),  # birthdays inside most sequences, after the first enrolments
    st.dates(date(1981, 1, 1), date(1981, 3, 31)),
    st.just(date(2000, 2, 29)),
)
members = st.integers(0, MAX_MEMBERS - 1)
prices = st.one_of(st.sampled_from([500, 1250, 2000, 2500, 3500]), st.integers(1, 4000))  # cents
buys = st.builds(
    Buy,
    member=members,
    lines=st.lists(
        st.tuples(st.integers(0, len(PRODUCTS) - 1), st.integers(1, 3), prices),
        min_size=1,
        max_size=3,
        unique_by=lambda line: line[0],
    ).map(tuple),
    shipping_cents=st.sampled_from([0, 0, 490]),
)
operations: st.SearchStrategy[Operation] = st.one_of(
    st.builds(Enrol, referrer=st.one_of(st.none(), members, members, members), born=birth_dates),
    st.builds(Enrol, referrer=st.one_of(st.none(), members, members, members), born=birth_dates),
    buys,
    buys,
    buys,
    st.builds(RefundAmount, order=st.integers(0, 30), parts=st.integers(0, 3)),
    st.builds(RefundLine, order=st.integers(0, 30), line=st.integers(0, 2), quantity=st.integers(1, 3)),
    st.builds(RefundRest, order=st.integers(0, 30), by_amount=st.booleans()),
    st.builds(RefundRest, order=st.integers(0, 30), by_amount=st.booleans()),
    st.builds(Join, member=members),
    st.builds(Redeem, member=members, reward=st.sampled_from(sorted(COSTS))),
    st.just(Deliver()),
    st.builds(Replay, event=st.integers(0, 30)),
    st.builds(Advance, hours=st.integers(1, 24 * 10), run_jobs=st.booleans()),
    st.builds(Advance, hours=st.integers(1, 24 * 4), run_jobs=st.just(True)),
)


# --- the test's own record of what it did --------------------------------------------------------------------------


@dataclass
class Person:
    external_id: str
    id: int


@dataclass
class Placed:
    """An order the test sent: whose it is, and its merchandise total (what a referral's minimum is compared with)."""

    member: int
    sent: OrderSent
    merchandise_cents: int


@dataclass
class History:
    api: ApiClient
    engine: Engine
    clock: Clock
    pays: str
    policy: str
    now: datetime = START
    people: list[Person] = field(default_factory=list)
    orders: list[Placed] = field(default_factory=list)
    events: list[tuple[dict[str, Any], dict[str, Any]]] = field(default_factory=list)
    """Every event recorded (its body and its answer), to send again."""
    gifts: set[tuple[str, int]] = field(default_factory=set)
    """The birthday gifts the rule calls for at the runs so far: (member, year)."""
    last_run: datetime | None = None
    settled: bool = True
    """Nothing happened since the outbox was last handed on."""

    # --- sending -------------------------------------------------------------------------------------------------

    def post(self, path: str, body: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        return self.api.post(path, body, **kwargs)

    def event(self, member: Person, body: dict[str, Any]) -> dict[str, Any]:
        body = {"id": self.api.next_id("evt"), "member_external_id": member.external_id, **body}
        body["occurred_at"] = self.now.isoformat()
        response = self.post("/api/v1/events", body)
        assert response.status_code == 201, response.text
        self.events.append((body, response.json()))
        self.settled = False
        return dict(response.json())

    def enrol(self, referrer: int | None, born: date) -> None:
        if len(self.people) >= MAX_MEMBERS:
            return
        external_id = f"m{len(self.people)}-{uuid.uuid4().hex[:6]}"
        body: dict[str, Any] = {
            "external_id": external_id,
            "email": f"{external_id}@example.com",
            "birth_date": born.isoformat(),
            "enrolled_at": self.now.isoformat(),
        }
        if referrer is not None and self.people:
            inviter = self.people[referrer % len(self.people)]
            code = self.api.get(f"/api/v1/members/{inviter.external_id}/referral")
            assert code.status_code == 200, code.text
            body["referred_by"] = code.json()["code"]
            event("enrolled with a code")
        response = self.post("/api/v1/members", body)
        assert response.status_code == 201, response.text
        with Session(self.engine) as session:
            member = session.execute(
                select(Member.id).where(Member.program_id == self.api.program_id, Member.external_id == external_id)
            ).scalar_one()
        self.people.append(Person(external_id, member))
        self.settled = False

    def person(self, index: int) -> Person:
        return self.people[index % len(self.people)]

    def buy(self, operation: Buy) -> None:
        member = operation.member % len(self.people)
        order_id = self.api.next_id("order")
        lines = {PRODUCTS[product][0]: (quantity, price) for product, quantity, price in operation.lines}
        self.event(
            self.people[member],
            {
                "type": "purchase",
                "order_id": order_id,
                "currency": "EUR",
                "lines": [
                    {"sku": sku, "category": dict(PRODUCTS)[sku], "quantity": quantity, "unit_price": cents(price)}
                    for sku, (quantity, price) in lines.items()
                ],
                "shipping": cents(operation.shipping_cents),
            },
        )
        merchandise = sum(quantity * price for quantity, price in lines.values())
        self.orders.append(
            Placed(member, OrderSent(order_id, lines, merchandise + operation.shipping_cents), merchandise)
        )
        event("a purchase that could qualify a referral" if merchandise >= MIN_ORDER_CENTS else "a small purchase")

    def refund(self, placed: Placed, **refund: Any) -> None:
        self.event(
            self.people[placed.member],
            {"type": "refund", "order_id": placed.sent.order_id, "currency": "EUR", **refund},
        )

    def refused(self, member: Person, response: Any, code: str) -> None:
        """A refusal: the error, and nothing written."""
        before = self.written()
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == code
        assert self.written() == before

    def written(self) -> tuple[int, int]:
        """How many ledger entries and outbox events the program has: what a refusal or a replay leaves alone."""
        with Session(self.engine) as session:
            entries = session.execute(
                select(func.count()).where(LedgerEntry.program_id == self.api.program_id)
            ).scalar_one()
            told = session.execute(
                select(func.count()).where(OutboxEvent.program_id == self.api.program_id)
            ).scalar_one()
        return int(entries), int(told)

    def refund_amount(self, placed: Placed, parts: int) -> None:
        order = placed.sent
        left = order.paid_cents - order.refunded_cents
        if parts == 0:
            before = self.written()
            body = {
                "id": self.api.next_id("refund"),
                "type": "refund",
                "member_external_id": self.people[placed.member].external_id,
                "occurred_at": self.now.isoformat(),
                "order_id": order.order_id,
                "currency": "EUR",
                "amount": cents(left + 1),
            }
            response = self.post("/api/v1/events", body)
            assert response.status_code == 422, response.text
            assert response.json()["error"]["code"] == "refund_exceeds_order"
            assert self.written() == before
            return
        if left <= 0:
            return
        amount = min(max(order.paid_cents // (parts + 1), 1), left)
        self.refund(placed, amount=cents(amount))
        order.refunded_cents += amount

    def refund_lines(self, placed: Placed, quantities: dict[str, int]) -> None:
        order = placed.sent
        value = sum(quantity * order.lines[sku][1] for sku, quantity in quantities.items())
        if value > order.paid_cents - order.refunded_cents:
            return  # refused, as the ledger's own properties show; nothing to learn here
        self.refund(placed, refund_lines=[{"sku": sku, "quantity": quantity} for sku, quantity in quantities.items()])
        for sku, quantity in quantities.items():
            order.refunded[sku] = order.refunded.get(sku, 0) + quantity
        order.refunded_cents += value

    def refund_line(self, placed: Placed, line: int, quantity: int) -> None:
        skus = sorted(placed.sent.lines)
        sku = skus[line % len(skus)]
        quantity = min(quantity, placed.sent.left(sku))
        if quantity:
            self.refund_lines(placed, {sku: quantity})

    def refund_rest(self, placed: Placed, *, by_amount: bool) -> None:
        order = placed.sent
        rest = {sku: order.left(sku) for sku in order.lines if order.left(sku) > 0}
        if rest and not by_amount:
            self.refund_lines(placed, rest)
        elif order.paid_cents > order.refunded_cents:
            left = order.paid_cents - order.refunded_cents
            self.refund(placed, amount=cents(left))
            order.refunded_cents += left
        if order.fully_refunded:
            event("an order refunded in full")

    def join(self, member: Person) -> None:
        response = self.post(f"/api/v1/members/{member.external_id}/challenges/explorer/join")
        if response.status_code == 422:
            assert response.json()["error"]["code"] == "challenge_closed"
            return
        assert response.status_code in (200, 201), response.text

    def redeem(self, member: Person, reward: str) -> None:
        can_pay = spendable_at(self.engine, member.id, self.now) >= COSTS[reward]
        before = self.written()
        response = self.post(
            f"/api/v1/members/{member.external_id}/redemptions",
            {"reward": reward},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
        if not can_pay:
            assert response.status_code == 422, response.text
            assert response.json()["error"]["code"] == "insufficient_points"
            assert self.written() == before
            return
        assert response.status_code == 201, response.text
        event("redeemed")

    def replay(self, index: int) -> None:
        """An event sent again: answered as the first time, and nothing written."""
        if not self.events:
            return
        body, answer = self.events[index % len(self.events)]
        before = self.written()
        response = self.post("/api/v1/events", body)
        assert (response.status_code, response.json()) == (200, answer)
        assert self.written() == before

    def advance(self, hours: int, run_jobs: bool) -> None:
        self.now += timedelta(hours=hours)
        self.clock.set(self.now)
        if not run_jobs:
            return
        with Session(self.engine) as session:
            rows = session.execute(
                select(Member.external_id, Member.enrolled_at, Member.birth_date, Member.birth_date_changed_at).where(
                    Member.program_id == self.api.program_id
                )
            ).all()
        for external_id, enrolled_at, born, changed_at in rows:
            found = due(Occasion.BIRTHDAY, BIRTHDAY, Celebrant(enrolled_at, born, changed_at), self.now, ZONE)
            if found is not None:
                self.gifts.add((external_id, found.year))
        report = jobs.run(self.engine, at=self.now, now=self.now, batch_size=3, only=[self.api.slug])
        event(f"jobs: birthdays {bool(report.celebrations)}, referrals {bool(report.referrals)}")
        # The same run again, at the same moment, finds nothing left to do
        before = self.written()
        again = jobs.run(self.engine, at=self.now, now=self.now, batch_size=3, only=[self.api.slug])
        assert (again.lots_vested, again.lots_expired, again.celebrations, again.referrals) == (0, 0, 0, 0)
        assert self.written() == before
        self.last_run = self.now
        self.settled = False

    def deliver(self) -> None:
        deliver_outbox(self.api.client)
        self.settled = True

    def apply(self, operation: Operation) -> None:
        if isinstance(operation, Enrol):
            self.enrol(operation.referrer, operation.born)
        elif isinstance(operation, Buy):
            self.buy(operation)
        elif isinstance(operation, Join):
            self.join(self.person(operation.member))
        elif isinstance(operation, Redeem):
            self.redeem(self.person(operation.member), operation.reward)
        elif isinstance(operation, Deliver):
            self.deliver()
        elif isinstance(operation, Replay):
            self.replay(operation.event)
        elif isinstance(operation, Advance):
            self.advance(operation.hours, operation.run_jobs)
        elif self.orders:
            placed = self.orders[operation.order % len(self.orders)]
            if isinstance(operation, RefundAmount):
                self.refund_amount(placed, operation.parts)
            elif isinstance(operation, RefundLine):
                self.refund_line(placed, operation.line, operation.quantity)
            else:
                self.refund_rest(placed, by_amount=operation.by_amount)


# --- the checks ------------------------------------------------------------------------------------------------------

ENGAGEMENT_RULES = ("referral", "birthday")


def is_engagement(rule: str | None) -> bool:
    return rule is not None and (rule in ENGAGEMENT_RULES or rule.startswith(("challenge:", "streak:")))


def check_ledger(history: History, person: Person, orders: dict[str, Placed]) -> None:
    """The ledger's invariants for one member (those of ``tests.invariants.test_ledger_invariants``, with the
    engagement mechanics' points: their grants are ``earn`` lots, their revocations ``reverse`` entries told as
    ``points.revoked``)."""
    points = history.api.points(person.external_id)
    with Session(history.engine) as session:
        entries = point_entries(session, person.id)
        lots = session.execute(select(Lot).where(Lot.member_id == person.id)).scalars().all()
        rows = session.execute(select(Order).where(Order.member_id == person.id)).scalars().all()
        told = [
            (kind, dict(payload))
            for kind, payload in session.execute(
                select(OutboxEvent.type, OutboxEvent.payload).where(OutboxEvent.member_id == person.id)
            )
        ]

    # Balances are the sums of their accounts' entries; no debt unless the return policy allows it.
    available, pending, debt = points["available"], points["pending"], points["debt"]
    assert available == sum(e.amount for e in entries if e.account == Account.POINTS.value)
    assert pending == sum(e.amount for e in entries if e.account == Account.PENDING_POINTS.value)
    assert debt == debt_of(entries) >= 0
    if history.policy != "unlimited":
        assert (debt, available >= 0) == (0, True)
    if debt:
        event("a member in debt")

    # Entries have the sign their kind says; lots stay within bounds and back the balances exactly.
    for entry in entries:
        if entry.kind in (EntryKind.SPEND.value, EntryKind.EXPIRE.value, EntryKind.REVERSE.value):
            assert entry.amount < 0, entry.kind
        if entry.kind == EntryKind.EARN.value:
            assert entry.amount > 0
    assert total(entries, EntryKind.VEST) == 0
    assert total(entries, EntryKind.REPAY_DEBT) == 0
    assert all(0 <= lot.remaining <= lot.amount for lot in lots)
    assert sum(lot.remaining for lot in lots if not lot.is_pending) - debt == available
    assert sum(lot.remaining for lot in lots if lot.is_pending) == pending

    # The accounting identity: every point earned is available, pending, spent, expired, taken back or owed.
    earned_total = total(entries, EntryKind.EARN) + total(entries, EntryKind.ADJUST, sign=1)
    spent = -total(entries, EntryKind.SPEND)
    expired = -total(entries, EntryKind.EXPIRE)
    reversed_total = -total(entries, EntryKind.REVERSE)
    taken_back = -total(entries, EntryKind.REVERSE, with_lot=True) - total(entries, EntryKind.REPAY_DEBT, sign=-1)
    assert points["lifetime_earned"] == earned_total
    assert earned_total == available + pending + spent + expired + reversed_total
    assert reversed_total == taken_back + debt
    assert sum(lot.amount for lot in lots) == earned_total

    # Every point is told: each lot by points.earned, every reversal by points.reversed (a refund) or points.revoked
    # (an engagement reward taken back).
    kinds = Counter(kind for kind, _ in told)
    assert kinds[MemberEnrolled.type] == 1
    assert kinds[PointsEarned.type] == len({e.lot_id for e in entries if e.kind == EntryKind.EARN.value})
    assert said(told, PointsEarned) == total(entries, EntryKind.EARN)
    assert said(told, PointsReversed) + said(told, PointsRevoked) == reversed_total
    assert said(told, PointsExpired) == expired
    assert said(told, RewardRedeemed, "points_spent") == spent

    # Per order: its own points (not the rewards it brought), and refunds that take back at most what it earned,
    # exactly that once it is refunded in full.
    for row in rows:
        own = [e for e in entries if e.order_id == row.order_id and not is_engagement(e.rule_code)]
        assert total(own, EntryKind.EARN) == row.points_earned
        due_back = sum(
            int(p["points"]) + int(p["not_taken_back"])
            for kind, p in told
            if kind == PointsReversed.type and p["order_id"] == row.order_id
        )
        assert due_back == row.points_reversed <= row.points_earned
        placed = orders[row.order_id]
        assert row.refunded_minor == placed.sent.refunded_cents
        if placed.sent.fully_refunded:
            assert row.points_reversed == row.points_earned


def check_referrals(history: History, orders: dict[str, Placed]) -> None:
    """Each side paid at most once, with exactly its points; reversed exactly when the qualifying order is refunded
    in full, each paid side taken back once and never more than it gave; the referrer's monthly cap kept."""
    api, engine = history.api, history.engine
    with Session(engine) as session:
        rows = session.execute(select(Referral).where(Referral.program_id == api.program_id)).scalars().all()
        earnings = Counter(
            session.execute(
                select(LedgerEntry.member_id, LedgerEntry.amount).where(
                    LedgerEntry.program_id == api.program_id,
                    LedgerEntry.account.in_([Account.POINTS.value, Account.PENDING_POINTS.value]),
                    LedgerEntry.kind == EntryKind.EARN.value,
                    LedgerEntry.rule_code == "referral",
                )
            ).all()
        )
        told = [
            (kind, dict(payload))
            for kind, payload in session.execute(
                select(OutboxEvent.type, OutboxEvent.payload).where(
                    OutboxEvent.program_id == api.program_id,
                    OutboxEvent.type.in_(["referral.rewarded", "referral.reversed", "points.revoked"]),
                )
            )
        ]
    rewarded = Counter((p["referral_id"], p["role"]) for kind, p in told if kind == "referral.rewarded")
    reversals = Counter(p["referral_id"] for kind, p in told if kind == "referral.reversed")
    revoked = Counter(p["granted"] for kind, p in told if kind == PointsRevoked.type and p["cause"] == "referral")
    for kind, payload in told:
        if kind == PointsRevoked.type and payload["cause"] == "referral":
            role = str(payload["granted"]).rsplit(":", 1)[1]
            assert payload["points"] + payload["not_taken_back"] == REFERRAL_POINTS[role]  # never more than given
    expected: Counter[tuple[int, int]] = Counter()
    standing: Counter[tuple[int, date]] = Counter()
    referees = {row.referee_id for row in rows}
    for row in rows:
        event(f"a referral {row.status}")
        paid = {"referee": row.referee_paid_at is not None, "referrer": row.referrer_paid_at is not None}
        assert {role: rewarded[(row.id, role)] for role in paid} == {role: int(was) for role, was in paid.items()}
        expected[(row.referee_id, REFERRAL_POINTS["referee"])] += paid["referee"]
        rewarded_referrer = paid["referrer"] and not row.referrer_capped
        expected[(row.referrer_id, REFERRAL_POINTS["referrer"])] += rewarded_referrer
        if row.referrer_capped:
            event("a referrer over the monthly cap")
        if rewarded_referrer and row.referrer_reversed_at is None:
            assert row.referrer_paid_at is not None
            standing[(row.referrer_id, local_date(row.referrer_paid_at, ZONE).replace(day=1))] += 1
        assert row.status in ("pending", "qualified", "paid", "reversed"), row.status
        if row.status == "pending":
            assert (row.order_id, paid) == (None, {"referee": False, "referrer": False})
            if history.pays == "at_once":  # the first purchase of the minimum qualifies and pays the friend at once
                assert all(
                    placed.merchandise_cents < MIN_ORDER_CENTS
                    for placed in orders.values()
                    if history.people[placed.member].id == row.referee_id
                )
            continue
        assert row.order_id is not None
        placed = orders[row.order_id]
        assert history.people[placed.member].id == row.referee_id
        assert placed.merchandise_cents >= MIN_ORDER_CENTS
        # Reversed exactly when the qualifying order is refunded in full (before it paid, it would be pending again)
        assert (row.status == "reversed") == placed.sent.fully_refunded, (row.status, placed)
        assert reversals[row.id] == (row.status == "reversed")
        if row.status == "qualified":
            assert not paid["referrer"]
            if history.pays == "at_once":
                assert paid["referee"]
                assert not history.settled, "the consumer pays the referrer when it is handed the outbox"
            else:
                assert not paid["referee"]
                assert row.payable_at is not None
                assert history.last_run is None or row.payable_at > history.last_run, "a run left it unpaid"
        if row.status == "paid":
            assert paid == {"referee": True, "referrer": True}
        # Each paid side taken back once when reversed (the referrer's by the consumer), never otherwise
        friend_back = int(row.status == "reversed" and paid["referee"])
        referrer_back = int(row.referrer_reversed_at is not None and rewarded_referrer)
        assert revoked[f"referral:{row.id}:referee"] == friend_back
        assert revoked[f"referral:{row.id}:referrer"] == referrer_back
        if row.status == "reversed" and history.settled:
            assert row.referrer_reversed_at is not None
    assert Counter(earnings) == +expected
    assert all(count <= PER_MONTH for count in standing.values()), standing
    assert len(referees) == len(rows)


GAME_EVENTS = ["challenge.completed", "challenge.reversed", "streak.extended", "streak.reversed", PointsRevoked.type]


def check_games(history: History) -> None:
    """Each challenge period completed at most once at a time (a completion again only after a reversal), each prize
    one lot of exactly its points, taken back at most once and then exactly; badges held as the prizes stand."""
    api, engine = history.api, history.engine
    with Session(engine) as session:
        prizes = session.execute(
            select(LedgerEntry.member_id, LedgerEntry.rule_code, LedgerEntry.amount, LedgerEntry.lot_id).where(
                LedgerEntry.program_id == api.program_id,
                LedgerEntry.account.in_([Account.POINTS.value, Account.PENDING_POINTS.value]),
                LedgerEntry.kind == EntryKind.EARN.value,
                LedgerEntry.rule_code.like("challenge:%") | LedgerEntry.rule_code.like("streak:%"),
            )
        ).all()
        rows = session.execute(
            select(ChallengeProgress).where(
                ChallengeProgress.program_id == api.program_id, ChallengeProgress.kind == "challenge"
            )
        ).scalars()
        completed = {(row.member_id, row.code, row.period): row.completed_at is not None for row in rows}
        held = Counter(
            (int(member), str(badge))
            for member, badge in session.execute(
                select(BadgeAward.member_id, BadgeAward.badge).where(
                    BadgeAward.program_id == api.program_id, BadgeAward.revoked_at.is_(None)
                )
            )
        )
        told = [
            (kind, member, dict(payload))
            for kind, member, payload in session.execute(
                select(OutboxEvent.type, OutboxEvent.member_id, OutboxEvent.payload).where(
                    OutboxEvent.program_id == api.program_id,
                    OutboxEvent.type.in_(GAME_EVENTS),
                )
            )
        ]
    assert all(amount == PRIZES[rule or ""] for _, rule, amount, _ in prizes)
    assert len({lot for *_, lot in prizes}) == len(prizes)  # each prize its own lot
    completions = Counter((m, p["challenge"], p["period"]) for kind, m, p in told if kind == "challenge.completed")
    reversals = Counter((m, p["challenge"], p["period"]) for kind, m, p in told if kind == "challenge.reversed")
    for key, count in completions.items():
        standing = count - reversals[key]
        assert standing in (0, 1), key
        assert standing == completed[key], key
        event("a challenge completed" if standing else "a challenge completed, then reversed")
    assert all(key in completions for key in reversals)
    # The prizes' points: one per completion and milestone, as their events say
    prize_points = Counter((member, rule) for member, rule, _, _ in prizes)
    said_points = Counter((m, f"challenge:{p['challenge']}") for kind, m, p in told if kind == "challenge.completed")
    said_points += Counter(
        (m, f"streak:{p['streak']}") for kind, m, p in told if kind == "streak.extended" and p["milestone"]
    )
    assert prize_points == said_points
    # Taken back at most once each, and then exactly: taken and forgiven add up to the prize
    revoked = [(m, p) for kind, m, p in told if kind == PointsRevoked.type and p["cause"] in ("challenge", "streak")]
    taken = Counter((member, payload["granted"]) for member, payload in revoked)  # a source is named per member
    assert all(count == 1 for count in taken.values()), taken
    for _, payload in revoked:
        assert payload["points"] + payload["not_taken_back"] == PRIZES[":".join(payload["granted"].split(":")[:2])]
    # A badge is held as often as its prizes stand: explorer's completions, the weekly streak's milestones
    badges: Counter[tuple[int, str]] = Counter()
    for (member, code, period), count in completions.items():
        if code == "explorer":  # big-month's prize has no badge
            badges[(member, code)] += count - reversals[(member, code, period)]
    for kind, member, payload in told:
        if kind == "streak.extended" and payload["milestone"]:
            badges[(member, payload["streak"])] += 1
        elif kind == "streak.reversed":
            badges[(member, payload["streak"])] -= 1
    assert +held == +badges


def check_birthdays(history: History) -> None:
    """One birthday gift a member a year, exactly those the rule calls for at the runs' moments: one row and one
    grant of its points each."""
    api, engine = history.api, history.engine
    with Session(engine) as session:
        rows = session.execute(
            select(Member.external_id, CelebrationGift.year)
            .join(Member, Member.id == CelebrationGift.member_id)
            .where(CelebrationGift.program_id == api.program_id, CelebrationGift.occasion == "birthday")
        ).all()
        grants = session.execute(
            select(LedgerEntry.member_id, LedgerEntry.operation, LedgerEntry.amount).where(
                LedgerEntry.program_id == api.program_id,
                LedgerEntry.account == Account.POINTS.value,
                LedgerEntry.rule_code == "birthday",
            )
        ).all()
    given = sorted((external_id, year) for external_id, year in rows)
    assert given == sorted(history.gifts)
    assert len(set(given)) == len(given)
    assert sorted(Counter((member, operation) for member, operation, _ in grants).values()) == [1] * len(given)
    assert {amount for *_, amount in grants} <= {BIRTHDAY.points}
    if given:
        event("a birthday gift")


def check(history: History) -> None:
    orders = {placed.sent.order_id: placed for placed in history.orders}
    for person in history.people:
        check_ledger(history, person, orders)
    check_referrals(history, orders)
    check_games(history)
    check_birthdays(history)
    with Session(history.engine) as session:  # double entry: every transfer sums to zero, accounts equal entries
        assert verify(session, history.api.program_id).problems == []


@pytest.mark.parametrize(("pays", "policy"), MODES)
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(born=st.lists(birth_dates, min_size=2, max_size=2), steps=st.lists(operations, min_size=8, max_size=24))
# A friend's qualifying order refunded in two parts, the referrer paid in between; then a new friend whose order is
# refunded before the outbox is handed on, while the jobs run across the birthdays of January.
@example(
    born=[date(1980, 1, 9), date(1990, 1, 12)],
    steps=[
        Buy(1, ((0, 2, 1500),), 0),
        Deliver(),
        RefundAmount(0, 1),
        RefundRest(0, by_amount=True),
        Enrol(0, date(1985, 1, 20)),
        Buy(2, ((1, 1, 2500),), 490),
        RefundRest(1, by_amount=False),
        Advance(24 * 5, run_jobs=True),
        Deliver(),
        Replay(3),
    ],
)
# Three friends of one member qualify in a month: the third is over the cap; explorer completed and reversed.
@example(
    born=[date(1980, 3, 1), date(1990, 3, 2)],
    steps=[
        Enrol(0, date(1981, 3, 3)),
        Enrol(0, date(1981, 3, 4)),
        Join(0),
        Buy(1, ((0, 1, 2000),), 0),
        Buy(2, ((1, 1, 2000),), 0),
        Buy(3, ((2, 1, 2000),), 0),
        Advance(24 * 11, run_jobs=True),
        Deliver(),
        Buy(0, ((0, 1, 500), (1, 1, 500), (2, 1, 500)), 0),
        RefundRest(3, by_amount=False),
        Advance(24 * 3, run_jobs=True),
        Deliver(),
    ],
)
def test_engagement_keeps_the_ledger_balanced_and_pays_each_reward_once(
    pays: str,
    policy: str,
    born: list[date],
    steps: list[Operation],
    make_program: ProgramMaker,
    engine: Engine,
    clock: Clock,
) -> None:
    # Given a program with referrals, challenges, a streak and birthdays, points pending for 10 days, and two
    # members enrolled at START, the second with the first's referral code
    clock.set(START)
    api = make_program(
        {
            **ENGAGEMENT,
            "points": {**GAMES["points"], "return_policy": policy, "expiry": {"after_months": None, "after_days": 90}},
            "referrals": {**ENGAGEMENT["referrals"], "pay": pays},
        }
    )
    history = History(api, engine, clock, pays, policy)
    history.enrol(None, born[0])
    history.enrol(0, born[1])
    check(history)

    # When any interleaving of enrolments, purchases, refunds, joins, redemptions, deliveries, replays and time
    # happens, then after every step the ledger adds up and every reward is paid once
    for step in steps:
        history.apply(step)
        check(history)
    # ...and once the outbox is handed on, every reversed referral has its referrer's side settled too
    history.deliver()
    check(history)
