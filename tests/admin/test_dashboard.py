"""The dashboard's numbers reconcile with the ledger exactly: for a program built through the API, every figure equals
the sum computed here independently from the members' ledger entries, orders and profiles, the period is cut in the
program's time zone, the charts add up to the totals, and the page says how each number is defined."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from babel.numbers import format_currency
from sqlalchemy import Engine
from tests.admin.conftest import Console, metric
from tests.conftest import Clock
from tests.factories import ApiClient, ProgramMaker, at_moment, ledger_items, line, run_jobs

from punchcard.analytics import service as analytics
from punchcard.analytics.domain import DEFINITIONS, Period
from punchcard.kit.db import unit_of_work
from punchcard.program import service as programs
from punchcard.staff.domain import Role

TALLINN = ZoneInfo("Europe/Tallinn")
JUNE = Period(date(2026, 6, 1), date(2026, 6, 30), TALLINN)
START, END = datetime.fromisoformat("2026-05-31T21:00:00+00:00"), datetime.fromisoformat("2026-06-30T21:00:00+00:00")


@dataclass
class Shop:
    """A program with a month of varied activity, and the orders placed (what the shop knows independently)."""

    api: ApiClient
    members: list[str] = field(default_factory=list)
    orders: list[tuple[str, datetime, Decimal]] = field(default_factory=list)
    """(member, occurred_at, merchandise + shipping)"""

    def enrol(self, name: str, enrolled_at: str) -> str:
        member = self.api.member(f"{name}-{self.api.slug}", enrolled_at=enrolled_at)
        self.members.append(member)
        return member

    def buy(self, member: str, at: str, lines: list[dict[str, Any]], shipping: str = "0") -> str:
        order = self.api.next_id("order")
        self.api.purchase(member, lines, order_id=order, occurred_at=at, shipping=shipping)
        total = sum(Decimal(item["unit_price"]) * item["quantity"] for item in lines) + Decimal(shipping)
        self.orders.append((member, datetime.fromisoformat(at), total))
        return order

    def at(self, moment: str, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None) -> None:
        response = at_moment(self.api, moment, method, path, body, headers)
        assert response.status_code in (200, 201), response.text


@pytest.fixture
def shop(make_program: ProgramMaker, engine: Engine) -> Shop:
    """Points live 20 days, so some expire inside June; every kind of movement happens, some just outside June."""
    shop = Shop(make_program({"points": {"expiry": {"after_months": None, "after_days": 20}}}))
    api = shop.api
    ann = shop.enrol("ann", "2026-05-20T09:00:00+00:00")  # before June: her welcome bonus is not June's
    bob = shop.enrol("bob", "2026-05-31T21:30:00+00:00")  # 00:30 on 1 June in Tallinn: June's
    cleo = shop.enrol("cleo", "2026-06-15T09:00:00+00:00")
    dan = shop.enrol("dan", "2026-06-30T21:30:00+00:00")  # 00:30 on 1 July in Tallinn: not June's
    shop.buy(ann, "2026-05-25T10:00:00+00:00", [line("MUG", "mugs", "30.00")])
    shop.buy(ann, "2026-06-05T10:00:00+00:00", [line("BEANS", "coffee-beans", "40.00")])
    shop.at(
        "2026-06-07T10:00:00+00:00",
        "POST",
        f"/api/v1/members/{ann}/redemptions",
        {"reward": "free-drink"},
        {"Idempotency-Key": "ann-drink"},
    )
    shop.buy(ann, "2026-06-20T10:00:00+00:00", [line("MUG", "mugs", "25.00")], shipping="5.00")
    bobs = shop.buy(bob, "2026-06-10T10:00:00+00:00", [line("BEANS", "coffee-beans", "300.00")])  # Silver now
    api.refund(bob, bobs, occurred_at="2026-06-12T10:00:00+00:00", amount="30.00")
    shop.at(
        "2026-06-28T10:00:00+00:00",
        "POST",
        f"/api/v1/members/{ann}/adjustments",
        {"points": -5, "reason": "duplicate review"},
    )
    shop.at(
        "2026-06-29T10:00:00+00:00", "POST", f"/api/v1/members/{cleo}/adjustments", {"points": 40, "reason": "goodwill"}
    )
    shop.buy(cleo, "2026-06-30T20:59:00+00:00", [line("MUG", "mugs", "10.00")])  # 23:59 on 30 June in Tallinn
    shop.buy(dan, "2026-07-02T10:00:00+00:00", [line("MUG", "mugs", "15.00")])
    run_jobs(api, engine, "2026-07-25T00:00:00+00:00")  # expiries due in June and July are written
    return shop


@dataclass(frozen=True)
class Expected:
    enrolled: int
    active: int
    orders: int
    repeat_buyers: int
    value: Decimal
    earned: int
    granted: int
    spent: int
    expired: int
    reversed: int
    removed: int
    outstanding_before: int
    outstanding_after: int
    tiers: dict[str, int]


def independently(shop: Shop) -> Expected:
    """June's figures from the members' ledger entries (via the API), their profiles and the orders placed."""
    sums = dict.fromkeys(("earn", "adjust+", "spend", "expire", "reverse", "adjust-"), 0)
    before = after = 0
    enrolled, tiers = 0, dict[str, int]()
    for member in shop.members:
        profile = shop.api.get(f"/api/v1/members/{member}").json()
        joined = datetime.fromisoformat(profile["enrolled_at"])
        enrolled += START <= joined < END
        if joined < END:
            tiers[profile["tier"]["code"]] = tiers.get(profile["tier"]["code"], 0) + 1
        for entry in ledger_items(shop.api, member):
            if entry["account"] not in ("points", "pending_points"):
                continue
            moment, points = datetime.fromisoformat(entry["occurred_at"]), entry["points"]
            before += points if moment < START else 0
            after += points if moment < END else 0
            if START <= moment < END:
                kind = entry["kind"] + ("" if entry["kind"] != "adjust" else "+" if points > 0 else "-")
                if kind in sums:
                    sums[kind] += abs(points)
    june = [(member, total) for member, moment, total in shop.orders if START <= moment < END]
    per_member = {member: sum(1 for m, _ in june if m == member) for member, _ in june}
    return Expected(
        enrolled=enrolled,
        active=len(per_member),
        orders=len(june),
        repeat_buyers=sum(1 for count in per_member.values() if count >= 2),
        value=sum((total for _, total in june), Decimal(0)),
        earned=sums["earn"],
        granted=sums["adjust+"],
        spent=sums["spend"],
        expired=sums["expire"],
        reversed=sums["reverse"],
        removed=sums["adjust-"],
        outstanding_before=before,
        outstanding_after=after,
        tiers=tiers,
    )


def test_the_dashboard_equals_sums_taken_independently_from_the_entries(shop: Shop, engine: Engine) -> None:
    expected = independently(shop)
    # Every kind of movement happened in June, so no figure is trivially zero
    assert expected.enrolled == 2
    assert expected.active == 3
    assert expected.orders == 4
    assert expected.repeat_buyers == 1
    assert min(expected.earned, expected.granted, expected.spent, expected.expired, expected.reversed) > 0
    assert (expected.removed, expected.value) == (5, Decimal("380.00"))
    with unit_of_work(engine) as session:
        board = analytics.dashboard(session, programs.current(session, shop.api.program_id), JUNE)
    totals = board.totals
    assert totals.enrolled == expected.enrolled
    assert (totals.active, totals.orders.orders, totals.orders.repeat_buyers) == (3, 4, 1)
    assert totals.orders.value_minor == 38000
    flows = totals.flows
    assert (flows.earned, flows.granted, flows.spent, flows.expired, flows.reversed, flows.removed) == (
        expected.earned,
        expected.granted,
        expected.spent,
        expected.expired,
        expected.reversed,
        expected.removed,
    )
    assert (totals.outstanding_before, totals.outstanding_after) == (
        expected.outstanding_before,
        expected.outstanding_after,
    )
    assert totals.reconciles
    assert totals.redemption_rate == Decimal(expected.spent) / Decimal(expected.earned + expected.granted)
    assert totals.repeat_purchase_rate == Decimal(1) / Decimal(3)
    assert totals.average_order_minor == Decimal(38000) / 4
    assert board.liability == expected.outstanding_after * Decimal("0.01")
    assert (
        {tier.code: tier.members for tier in board.tiers if tier.members}
        == expected.tiers
        == {
            "bronze": 2,
            "silver": 1,
        }
    )


def test_the_charts_add_up_to_the_periods_totals(shop: Shop, engine: Engine) -> None:
    with unit_of_work(engine) as session:
        board = analytics.dashboard(session, programs.current(session, shop.api.program_id), JUNE)
    series, totals = board.series, board.totals
    assert [figures.bucket.label for figures in series][:2] == ["2026-06-01", "2026-06-02"]
    assert len(series) == 30  # a month is drawn day by day
    assert sum(f.flows.issued for f in series) == totals.flows.issued
    assert sum(f.flows.spent for f in series) == totals.flows.spent
    assert sum(f.flows.expired for f in series) == totals.flows.expired
    assert sum(f.flows.reversed for f in series) == totals.flows.reversed
    assert sum(f.enrolled for f in series) == totals.enrolled
    assert sum(f.orders.orders for f in series) == totals.orders.orders
    assert series[-1].outstanding_after == totals.outstanding_after
    assert series[-1].orders.buyers == 1  # Cleo's order at 23:59 on 30 June, Tallinn time


def test_the_page_shows_the_same_numbers_and_how_each_is_defined(
    shop: Shop, signed_in: Callable[[Role], Console]
) -> None:
    expected = independently(shop)
    html = signed_in(Role.VIEWER).page(
        f"/admin/p/{shop.api.slug}/dashboard", **{"from": "2026-06-01", "to": "2026-06-30"}
    )
    issued = expected.earned + expected.granted
    shown = {
        name: metric(html, name)
        for name in (
            "enrolled",
            "active",
            "issued",
            "spent",
            "expired",
            "reversed",
            "removed",
            "outstanding",
            "liability",
            "redemption_rate",
            "repeat_purchase_rate",
            "average_order_value",
            "orders",
        )
    }
    assert shown == {
        "enrolled": "2",
        "active": "3",
        "issued": f"{issued:,}",
        "spent": f"{expected.spent:,}",
        "expired": f"{expected.expired:,}",
        "reversed": f"{expected.reversed:,}",
        "removed": "5",
        "outstanding": f"{expected.outstanding_after:,}",
        "liability": format_currency(expected.outstanding_after * Decimal("0.01"), "EUR", locale="en"),
        "redemption_rate": f"{Decimal(expected.spent * 100) / issued:.1f}%",
        "repeat_purchase_rate": "33.3%",
        "average_order_value": "€95.00",
        "orders": "4",
    }
    assert "(equals the outstanding points at the end)" in html
    for definition in DEFINITIONS.values():
        assert definition.replace("'", "&#39;") in html
    assert html.count('role="img"') == 4  # points, outstanding, members, tiers; each with a table below
    assert html.count("<table>") == 4


def test_a_period_without_activity_shows_zeros_and_dashes(api: ApiClient, signed_in: Callable[[Role], Console]) -> None:
    html = signed_in(Role.VIEWER).page(f"/admin/p/{api.slug}/dashboard", **{"from": "2020-01-01", "to": "2020-03-31"})
    assert (metric(html, "issued"), metric(html, "redemption_rate"), metric(html, "average_order_value")) == (
        "0",
        "–",
        "–",
    )


@pytest.mark.parametrize(
    ("first", "last"),
    [("2026-13-01", "2026-06-30"), ("2026-06-30", "2026-06-01"), ("2020-01-01", "2026-06-30")],
)
def test_an_invalid_period_says_so_and_shows_the_last_twelve_months(
    first: str, last: str, api: ApiClient, signed_in: Callable[[Role], Console], clock: Clock
) -> None:
    console = signed_in(Role.VIEWER)
    clock.set("2026-06-15T22:30:00+00:00")  # already 16 June in Tallinn
    html = console.page(f"/admin/p/{api.slug}/dashboard", **{"from": first, "to": last})
    assert "The period was not valid" in html
    assert 'name="from" type="date" value="2025-06-17"' in html
    assert 'name="to" type="date" value="2026-06-16"' in html
