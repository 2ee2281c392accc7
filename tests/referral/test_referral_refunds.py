"""Refunds and referrals: a refunded qualifying order takes back exactly what the referral gave, once, and nothing
more: not on a partial refund, not for an order that did not qualify, not beyond what the return policy allows, not
again when the refund is sent twice; refunded before the referral pays, it pays nothing until another purchase
qualifies; and the jobs pay what is due at the moment they run as of, once."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from punchcard.jobs import service as jobs
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, deliver_outbox, error_of, line, snapshot
from tests.referral.books import (
    member_id,
    problems,
    referral_earnings,
    referral_of,
    revocations,
    rewarded_sides,
    taken_back,
    told,
)
from tests.referral.test_referrals import REFERRALS, friend_of, program


def at(days: float) -> str:
    """A moment ``days`` after the API's clock (negative: before it)."""
    return (NOW + timedelta(days=days)).isoformat()


def refund_body(api: ApiClient, member: str, order: str, when: str, **refund: Any) -> dict[str, Any]:
    return {
        "id": api.next_id("refund"),
        "type": "refund",
        "member_external_id": member,
        "occurred_at": when,
        "order_id": order,
        "currency": "EUR",
        **refund,
    }


def kinds(response: dict[str, Any]) -> list[tuple[str, int]]:
    return [(effect["type"], effect["points"]) for effect in response["effects"] if "points" in effect]


def test_a_refund_by_amounts_in_parts_takes_back_the_referral_once_with_the_last_part(
    make_program: ProgramMaker, client: TestClient, engine: Engine
) -> None:
    # Given Anna's friend Ben, whose 40.00 order paid the referral: Ben has 40 + 100 points, Anna 200
    api = program(make_program)
    anna = api.member("anna", email="anna@example.com")
    ben = friend_of(api, anna, "ben", enrolled_at=at(-3))
    order = f"O-{ben}"
    api.purchase(ben, [line("BEANS", "coffee-beans", "20.00", quantity=2)], order_id=order, occurred_at=at(-2))
    deliver_outbox(client)
    assert (api.available(ben), api.available(anna)) == (140, 200)
    referral_id = referral_of(engine, api, ben).id

    # When a quarter of the order is refunded by amount
    quarter = api.refund(ben, order, amount="10.00", occurred_at=at(-1))
    deliver_outbox(client)

    # Then only the order's own share of points went back, and the referral stands
    assert kinds(quarter) == [("points_reversed", 10)]
    assert (api.available(ben), api.available(anna)) == (130, 200)
    assert referral_of(engine, api, ben).status == "paid"
    assert revocations(engine, api) == []

    # When the rest is refunded
    body = refund_body(api, ben, order, at(-1), amount="30.00")
    rest = api.post("/api/v1/events", body)
    assert rest.status_code == 201, rest.text
    deliver_outbox(client)

    # Then the rest of the order's points and both sides' rewards went back, each exactly once
    assert kinds(rest.json()) == [("points_reversed", 30), ("points_revoked", 100)]
    assert (api.available(ben), api.available(anna)) == (0, 0)
    row = referral_of(engine, api, ben)
    assert (row.status, row.reversed_at is not None, row.referrer_reversed_at is not None) == ("reversed", True, True)
    assert revocations(engine, api) == [
        (f"referral:{referral_id}:referee", 100, 0),
        (f"referral:{referral_id}:referrer", 200, 0),
    ]
    ben_id, anna_id = member_id(engine, api, ben), member_id(engine, api, anna)
    assert (referral_earnings(engine, ben_id), referral_earnings(engine, anna_id)) == ([100], [200])
    assert (taken_back(engine, ben_id), taken_back(engine, anna_id)) == (40 + 100, 200)
    assert [kind for kind, _, _ in told(engine, api, "referral.reversed")] == ["referral.reversed"]

    # And a refund beyond the order is refused, and the last refund sent again is replayed: nothing changes
    before = snapshot(api, ben), snapshot(api, anna)
    beyond = api.post("/api/v1/events", refund_body(api, ben, order, at(-1), amount="0.01"))
    error_of(beyond, 422, "refund_exceeds_order")
    again = api.post("/api/v1/events", body)
    assert (again.status_code, again.json()) == (200, rest.json())
    deliver_outbox(client)
    assert (snapshot(api, ben), snapshot(api, anna)) == before
    assert len(revocations(engine, api)) == 2
    assert problems(engine, api) == []


def test_refunds_of_orders_that_did_not_qualify_leave_the_referral_paid(
    make_program: ProgramMaker, client: TestClient, engine: Engine
) -> None:
    # Given Ben's small order (under the minimum), his qualifying order, and a later order
    api = program(make_program)
    anna = api.member("anna", email="anna@example.com")
    ben = friend_of(api, anna, "ben", enrolled_at=at(-5))
    small, qualifying, later = (f"O-{n}-{ben}" for n in ("small", "qualifying", "later"))
    api.purchase(ben, [line("CUP", "drinks", "10.00")], order_id=small, occurred_at=at(-4))
    api.purchase(ben, [line("BEANS", "coffee-beans", "25.00")], order_id=qualifying, occurred_at=at(-3))
    api.purchase(ben, [line("MUG", "merch", "30.00")], order_id=later, occurred_at=at(-2))
    deliver_outbox(client)
    assert (api.available(ben), api.available(anna)) == (10 + 25 + 30 + 100, 200)

    # When the small and the later orders are refunded in full
    refunds = [
        api.refund(ben, order, amount=total, occurred_at=at(-1))
        for order, total in ((small, "10.00"), (later, "30.00"))
    ]
    deliver_outbox(client)

    # Then each took back its own points and nothing of the referral, which stays paid to both
    assert [kinds(response) for response in refunds] == [[("points_reversed", 10)], [("points_reversed", 30)]]
    assert (api.available(ben), api.available(anna)) == (25 + 100, 200)
    row = referral_of(engine, api, ben)
    assert (row.status, row.order_id) == ("paid", qualifying)
    assert revocations(engine, api) == []
    assert told(engine, api, "referral.reversed") == []
    assert problems(engine, api) == []


def test_a_friend_who_spent_the_reward_loses_no_more_than_the_return_policy_allows(
    make_program: ProgramMaker, client: TestClient, engine: Engine
) -> None:
    # Given a program whose refunds take back at most the balance, and Ben, who spent his 60 + 100 points but 10
    api = program(make_program, points={"return_policy": "within_balance"})
    anna = api.member("anna", email="anna@example.com")
    ben = friend_of(api, anna, "ben", enrolled_at=at(-3))
    order = f"O-{ben}"
    api.purchase(ben, [line("BEANS", "coffee-beans", "60.00")], order_id=order, occurred_at=at(-2))
    deliver_outbox(client)
    spent = api.post(f"/api/v1/members/{ben}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": ben})
    assert spent.status_code == 201, spent.text
    assert (api.available(ben), api.available(anna)) == (10, 200)

    # When the qualifying order is refunded in full
    refund = api.refund(ben, order, amount="60.00", occurred_at=at(-1))
    deliver_outbox(client)

    # Then Ben's balance went to zero and no further: the order's points and the friend's reward were taken as far as
    # the balance allowed and the rest forgiven; Anna's reward, which she still had, was taken back whole
    assert [(e["type"], e["points"], e.get("not_taken_back", 0)) for e in refund["effects"] if "points" in e] == [
        ("points_reversed", 10, 50),
        ("points_revoked", 0, 100),
    ]
    assert api.points(ben)["available"] == 0
    assert api.points(ben)["debt"] == 0
    assert api.available(anna) == 0
    referral_id = referral_of(engine, api, ben).id
    assert revocations(engine, api) == [
        (f"referral:{referral_id}:referee", 0, 100),
        (f"referral:{referral_id}:referrer", 200, 0),
    ]
    assert referral_of(engine, api, ben).status == "reversed"
    assert problems(engine, api) == []


def test_a_qualifying_order_refunded_before_the_referral_pays_pays_nothing_until_another_qualifies(
    make_program: ProgramMaker, client: TestClient, engine: Engine
) -> None:
    # Given a referral that pays when the qualifying order's points vest (14 days), and Ben's qualifying order
    api = program(make_program, points={"pending_days": 14}, pay="when_points_vest")
    anna = api.member("anna", email="anna@example.com")
    ben = friend_of(api, anna, "ben", enrolled_at=at(-10))
    first, second = f"O-1-{ben}", f"O-2-{ben}"
    api.purchase(ben, [line("BEANS", "coffee-beans", "30.00")], order_id=first, occurred_at=at(-9))
    assert referral_of(engine, api, ben).status == "qualified"

    # When it is refunded in full inside its return window, and the jobs run after it would have vested
    api.refund(ben, first, amount="30.00", occurred_at=at(-8))
    deliver_outbox(client)
    report = jobs.run(engine, at=NOW + timedelta(days=6), now=NOW + timedelta(days=6), only=[api.slug])

    # Then nothing was paid: the referral waits for another qualifying purchase
    row = referral_of(engine, api, ben)
    assert (row.status, row.order_id, row.payable_at, report.referrals) == ("pending", None, None, 0)
    ben_id, anna_id = member_id(engine, api, ben), member_id(engine, api, anna)
    assert (referral_earnings(engine, ben_id), referral_earnings(engine, anna_id)) == ([], [])
    assert told(engine, api, "referral.rewarded", "referral.reversed") == []

    # When Ben's next qualifying order vests, and the jobs run then and again
    api.purchase(ben, [line("BEANS", "coffee-beans", "25.00")], order_id=second, occurred_at=at(-1))
    moment = NOW + timedelta(days=14)
    reports = [jobs.run(engine, at=moment, now=moment, only=[api.slug]) for _ in range(2)]
    deliver_outbox(client)

    # Then it paid both sides once
    assert [report.referrals for report in reports] == [1, 0]
    row = referral_of(engine, api, ben)
    assert (row.status, row.order_id) == ("paid", second)
    assert (referral_earnings(engine, ben_id), referral_earnings(engine, anna_id)) == ([100], [200])
    assert rewarded_sides(engine, api) == {(row.id, "referee"): 1, (row.id, "referrer"): 1}
    assert problems(engine, api) == []


def test_a_jobs_run_as_of_a_moment_ahead_of_its_clock_pays_what_is_due_then_and_ends(
    make_program: ProgramMaker, client: TestClient, engine: Engine
) -> None:
    # Given a referral that falls due when the qualifying order vests, 14 days after NOW
    api = program(make_program, points={"pending_days": 14}, pay="when_points_vest")
    anna = api.member("anna", email="anna@example.com")
    ben = friend_of(api, anna, "ben", enrolled_at=at(-2))
    api.purchase(ben, [line("BEANS", "coffee-beans", "30.00")], occurred_at=at(-1))
    deliver_outbox(client)
    payable_at = referral_of(engine, api, ben).payable_at
    assert payable_at is not None
    assert payable_at <= NOW + timedelta(days=14)

    # When `punchcard jobs run --at` names a moment after it while the clock still reads NOW (a run ahead of time)
    reports: list[jobs.Report] = []
    moment = NOW + timedelta(days=15)
    running = threading.Thread(target=lambda: reports.append(jobs.run(engine, at=moment, now=NOW, only=[api.slug])))
    running.daemon = True  # should it loop for ever, the test still ends
    running.start()
    running.join(timeout=30)

    # Then the run ends, having paid the referral due at that moment, once
    assert not running.is_alive(), "the jobs run did not end"
    assert [report.referrals for report in reports] == [1]
    ben_id, anna_id = member_id(engine, api, ben), member_id(engine, api, anna)
    assert (referral_earnings(engine, ben_id), referral_earnings(engine, anna_id)) == ([100], [200])
    assert referral_of(engine, api, ben).status == "paid"
    assert problems(engine, api) == []


# --- known failures: what the event path tells the mechanics as "refunded in full" ---------------------------------


def test_a_refund_of_the_lines_that_earned_while_a_gift_card_is_kept_leaves_the_referral_paid(
    make_program: ProgramMaker, client: TestClient, engine: Engine
) -> None:
    # Given the demo's earning rules (gift cards earn nothing), and Ben's qualifying order: beans for 10.00 (20
    # points) and a gift card for 15.00
    api = make_program(REFERRALS)
    anna = api.member("anna", email="anna@example.com")
    ben = friend_of(api, anna, "ben", enrolled_at=at(-3))
    order = f"O-{ben}"
    lines = [line("BEANS", "coffee-beans", "10.00"), line("GIFT", "gift-cards", "15.00")]
    api.purchase(ben, lines, order_id=order, occurred_at=at(-2))
    deliver_outbox(client)

    # When the beans are refunded, and the gift card kept
    refund = api.refund(ben, order, refund_lines=[{"sku": "BEANS", "quantity": 1}], occurred_at=at(-1))
    deliver_outbox(client)

    # Then the order is not refunded in full: its points went back, the referral stands
    assert kinds(refund) == [("points_reversed", 20)]
    assert referral_of(engine, api, ben).status == "paid"
    assert revocations(engine, api) == []


def test_a_large_order_refunded_but_for_a_cent_leaves_the_referral_paid(
    make_program: ProgramMaker, client: TestClient, engine: Engine
) -> None:
    api = program(make_program)
    anna = api.member("anna", email="anna@example.com")
    ben = friend_of(api, anna, "ben", enrolled_at=at(-3))
    order = f"O-{ben}"
    api.purchase(ben, [line("MUG", "merch", "20000.01")], order_id=order, occurred_at=at(-2))
    deliver_outbox(client)

    api.refund(ben, order, amount="20000.00", occurred_at=at(-1))
    deliver_outbox(client)

    assert referral_of(engine, api, ben).status == "paid"
    assert revocations(engine, api) == []
