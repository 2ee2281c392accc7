"""Referrals against concurrency, on PostgreSQL (SQLite serialises writers): ten qualifying purchases at once by one
friend pay each side once; ten payout runs at once (the jobs' step and the consumer's use case) pay a referral that
waits for its order's points to vest once; the referrer's monthly cap holds when ten friends' referrals are paid at
once; and a full refund of the qualifying order racing the payout ends paid-then-reversed or never paid, with no point
lost or doubled."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from punchcard.kit.db import unit_of_work
from punchcard.mechanics import referral_payouts
from punchcard.program import service as programs
from punchcard.referral import payouts
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, deliver_outbox, line
from tests.invariants.test_races import at_once, auth, statuses
from tests.referral.books import (
    member_id,
    problems,
    referral_earnings,
    referral_of,
    revocations,
    rewarded_sides,
    told,
)
from tests.referral.test_referrals import friend_of, program

ENROLLED = (NOW - timedelta(days=3)).isoformat()
BOUGHT = NOW - timedelta(days=2)
STAGGER_SECONDS = 0.01
VESTED = NOW + timedelta(days=15)
"""After the return window (14 days) of a purchase made at ``BOUGHT``."""


@pytest.fixture(scope="module", autouse=True)
def postgresql(engine: Engine) -> None:
    """Module-wide and first, so that the servers do not start for nothing on SQLite."""
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): requests and runs cannot overlap there")


def purchase(http: httpx.Client, api: ApiClient, member: str, order_id: str, at: datetime) -> httpx.Response:
    """A purchase of 25.00 (coffee beans: 25 points) at ``at``."""
    body = {
        "id": f"evt-{order_id}",
        "type": "purchase",
        "member_external_id": member,
        "occurred_at": at.isoformat(),
        "order_id": order_id,
        "currency": "EUR",
        "lines": [line("BEANS", "coffee-beans", "25.00")],
    }
    return http.post("/api/v1/events", json=body, headers=auth(api))


def refund_in_full(http: httpx.Client, api: ApiClient, member: str, order_id: str) -> httpx.Response:
    """The whole of a purchase of 25.00 refunded, the day before NOW."""
    body = {
        "id": f"refund-{order_id}",
        "type": "refund",
        "member_external_id": member,
        "occurred_at": (NOW - timedelta(days=1)).isoformat(),
        "order_id": order_id,
        "currency": "EUR",
        "amount": "25.00",
    }
    return http.post("/api/v1/events", json=body, headers=auth(api))


def rewarded_effects(response: httpx.Response) -> list[dict[str, Any]]:
    return [effect for effect in response.json()["effects"] if effect["type"] == "referral_rewarded"]


def payer(engine: Engine, api: ApiClient) -> payouts.Payer:
    with unit_of_work(engine) as session:
        found = referral_payouts.payer(programs.current(session, api.program_id))
    assert found is not None
    return found


def pay(engine: Engine, found: payouts.Payer, referral_id: int, now: datetime) -> None:
    """What the referral's consumer does when it hears the referral qualify, in a transaction of its own."""
    with unit_of_work(engine) as session:
        payouts.pay(session, found, referral_id, now)


def pay_due(engine: Engine, api: ApiClient, at: datetime) -> int:
    """One batch of the jobs' referral step, in a transaction of its own."""
    with unit_of_work(engine) as session:
        version = programs.current(session, api.program_id)
        return referral_payouts.pay_due(session, version, at=at, now=at, limit=10)


def ten_orders(api: ApiClient) -> list[str]:
    return [api.next_id("order") for _ in range(10)]


@pytest.mark.parametrize("served_by", ["http", "lone_http"], ids=["group-commit", "one-transaction-each"])
def test_ten_qualifying_purchases_at_once_by_one_friend_pay_each_side_once(
    served_by: str, request: pytest.FixtureRequest, make_program: ProgramMaker, client: TestClient, engine: Engine
) -> None:
    # Given Anna's friend Ben, whose first purchase of at least 20.00 pays him 100 points at once and Anna 200
    http: httpx.Client = request.getfixturevalue(served_by)
    api = program(make_program)
    anna = api.member("anna", email="anna@example.com")
    ben = friend_of(api, anna, "ben", enrolled_at=ENROLLED)
    orders = ten_orders(api)

    # When ten purchases of 25.00, each its own order, arrive at once
    responses = at_once(10, lambda i: purchase(http, api, ben, orders[i], BOUGHT))
    # ...and the outbox is handed on by four dispatchers at once
    at_once(4, lambda _: deliver_outbox(client))

    # Then every purchase was recorded, and exactly one of them paid Ben's side
    assert statuses(responses) == {201: 10}, [response.text for response in responses]
    rewarded = {i: rewarded_effects(response) for i, response in enumerate(responses) if rewarded_effects(response)}
    assert len(rewarded) == 1, rewarded
    [(winner, effects)] = rewarded.items()
    row = referral_of(engine, api, ben)
    assert effects == [{"type": "referral_rewarded", "referral_id": row.id, "role": "referee", "points": 100}]
    # ...the referral was qualified by that purchase's order and paid, once to each side
    assert (row.status, row.order_id, row.referee_points, row.referrer_points) == ("paid", orders[winner], 100, 200)
    ben_id, anna_id = member_id(engine, api, ben), member_id(engine, api, anna)
    assert (referral_earnings(engine, ben_id), referral_earnings(engine, anna_id)) == ([100], [200])
    assert rewarded_sides(engine, api) == {(row.id, "referee"): 1, (row.id, "referrer"): 1}
    assert [kind for kind, _, _ in told(engine, api, "referral.qualified")] == ["referral.qualified"]
    # ...and the balances are the ten orders' points and the rewards, nothing more
    assert (api.available(ben), api.available(anna)) == (10 * 25 + 100, 200)
    assert problems(engine, api) == []


def test_ten_payout_runs_at_once_pay_a_referral_that_waits_for_its_points_to_vest_once(
    make_program: ProgramMaker, client: TestClient, engine: Engine, http: httpx.Client, run_engines: list[Engine]
) -> None:
    # Given a referral that pays when the qualifying order's points vest (14 days), qualified by one of ten purchases
    # that arrived at once, and not paid yet
    api = program(make_program, points={"pending_days": 14}, pay="when_points_vest")
    anna = api.member("anna", email="anna@example.com")
    ben = friend_of(api, anna, "ben", enrolled_at=ENROLLED)
    orders = ten_orders(api)
    responses = at_once(10, lambda i: purchase(http, api, ben, orders[i], BOUGHT))
    assert statuses(responses) == {201: 10}, [response.text for response in responses]
    assert [effect for response in responses for effect in rewarded_effects(response)] == []
    deliver_outbox(client)
    row = referral_of(engine, api, ben)
    assert (row.status, row.referee_paid_at, row.referrer_paid_at) == ("qualified", None, None)
    assert [kind for kind, _, _ in told(engine, api, "referral.qualified")] == ["referral.qualified"]

    # When, after the return window, ten payouts run at once: the jobs' step and the consumer's use case, each in a
    # transaction of its own on its own engine
    found = payer(engine, api)

    def payout(i: int) -> None:
        if i % 2:
            pay_due(run_engines[i], api, VESTED)
        else:
            pay(run_engines[i], found, row.id, VESTED)

    at_once(10, payout)
    deliver_outbox(client)

    # Then the referral was paid, once to each side
    after = referral_of(engine, api, ben)
    assert (after.status, after.referee_points, after.referrer_points) == ("paid", 100, 200)
    ben_id, anna_id = member_id(engine, api, ben), member_id(engine, api, anna)
    assert (referral_earnings(engine, ben_id), referral_earnings(engine, anna_id)) == ([100], [200])
    assert rewarded_sides(engine, api) == {(row.id, "referee"): 1, (row.id, "referrer"): 1}
    assert problems(engine, api) == []


def test_ten_friends_paid_at_once_keep_their_referrers_monthly_cap(
    make_program: ProgramMaker, client: TestClient, engine: Engine, http: httpx.Client, run_engines: list[Engine]
) -> None:
    # Given Anna, whose referrals pay her for at most 3 friends a month, and ten friends who qualified at once
    api = program(make_program, caps={"per_month": 3}, pay="when_points_vest", points={"pending_days": 14})
    anna = api.member("anna", email="anna@example.com")
    friends = [friend_of(api, anna, f"friend{n}", enrolled_at=ENROLLED) for n in range(10)]
    orders = ten_orders(api)
    responses = at_once(10, lambda i: purchase(http, api, friends[i], orders[i], BOUGHT))
    assert statuses(responses) == {201: 10}, [response.text for response in responses]
    deliver_outbox(client)
    ids = [referral_of(engine, api, friend).id for friend in friends]

    # When their ten referrals are paid at once, each in its own transaction
    found = payer(engine, api)
    at_once(10, lambda i: pay(run_engines[i], found, ids[i], VESTED))

    # Then every friend got theirs, and Anna exactly three rewards; the others were paid as capped, with nothing
    assert [referral_earnings(engine, member_id(engine, api, friend)) for friend in friends] == [[100]] * 10
    assert referral_earnings(engine, member_id(engine, api, anna)) == [200] * 3
    rows = [referral_of(engine, api, friend) for friend in friends]
    assert Counter((row.status, row.referrer_capped, row.referrer_points) for row in rows) == {
        ("paid", False, 200): 3,
        ("paid", True, 0): 7,
    }
    referrer_sides = [
        payload for _, _, payload in told(engine, api, "referral.rewarded") if payload["role"] == "referrer"
    ]
    assert Counter(bool(payload["capped"]) for payload in referrer_sides) == {False: 3, True: 7}
    assert api.available(anna) == 600
    assert problems(engine, api) == []


@pytest.mark.parametrize("pays", ["at_once", "when_points_vest"])
def test_a_full_refund_racing_the_payout_ends_paid_and_reversed_or_never_paid(
    pays: str,
    make_program: ProgramMaker,
    client: TestClient,
    engine: Engine,
    lone_http: httpx.Client,
    run_engines: list[Engine],
) -> None:
    # Given five friends of Anna, each with a qualifying order of 25.00. Paid at once, each friend has their 100
    # points and Anna's 200 wait for the consumer; paid when the points vest (14 days), the orders were placed 20 days
    # ago and the referrals fall due now, unpaid
    vesting = pays == "when_points_vest"
    api = program(make_program, pay=pays, points={"pending_days": 14} if vesting else {})
    anna = api.member("anna", email="anna@example.com")
    bought = NOW - timedelta(days=20 if vesting else 2)
    enrolled = (bought - timedelta(days=1)).isoformat()
    friends = [friend_of(api, anna, f"friend{n}", enrolled_at=enrolled) for n in range(5)]
    orders = ten_orders(api)[:5]
    for friend, order in zip(friends, orders, strict=True):
        placed = purchase(lone_http, api, friend, order, bought)
        assert placed.status_code == 201, placed.text
    rows = [referral_of(engine, api, friend) for friend in friends]
    assert {(row.status, row.referee_points) for row in rows} == {("qualified", 0 if vesting else 100)}
    found = payer(engine, api)
    moment = NOW - timedelta(days=5) if vesting else NOW
    assert all(row.payable_at is not None and row.payable_at <= moment for row in rows)

    # When each friend's full refund (a day before NOW) and the payout of their referral run at once
    def race(i: int) -> None:
        friend = i // 2
        if i % 2:
            pay(run_engines[i], found, rows[friend].id, moment)
        else:
            time.sleep(STAGGER_SECONDS * friend)  # the later friends' payouts get a head start: both orders happen
            refunded = refund_in_full(lone_http, api, friends[friend], orders[friend])
            assert refunded.status_code == 201, refunded.text

    at_once(10, race)
    deliver_outbox(client)  # the consumer takes back what a paid referrer got, and pays nothing more
    deliver_outbox(client)

    # Then each referral either paid and was reversed (each side it paid taken back, once), or never paid at all
    given = rewarded_sides(engine, api)
    revoked = Counter(granted for granted, _, _ in revocations(engine, api))
    outcomes: Counter[str] = Counter()
    for before, friend in zip(rows, friends, strict=True):
        row = referral_of(engine, api, friend)
        sides = {role: given[(row.id, role)] for role in ("referee", "referrer")}
        taken = {role: revoked[f"referral:{row.id}:{role}"] for role in ("referee", "referrer")}
        assert set(sides.values()) <= {0, 1}, (row, sides)
        assert sides == taken, (row, sides, taken)
        if row.status == "reversed":
            outcomes[f"paid {'both sides' if sides['referrer'] else 'the friend'}, then reversed"] += 1
            assert row.referrer_reversed_at is not None
            assert sides["referee"] == 1
        else:
            outcomes["never paid"] += 1
            assert (row.status, row.order_id, sides) == ("pending", None, {"referee": 0, "referrer": 0})
        assert referral_earnings(engine, member_id(engine, api, friend)) == [100] * sides["referee"]
        points = api.points(friend)
        assert (points["available"], points["pending"], points["debt"]) == (0, 0, 0), before
    assert referral_earnings(engine, member_id(engine, api, anna)) == [200] * sum(
        given[(row.id, "referrer")] for row in rows
    )
    assert api.points(anna)["available"] == 0  # what Anna got was taken back: no point lost or doubled
    assert problems(engine, api) == []
    print(dict(outcomes))  # which way the races went (shown with -s)
