"""Requests that really overlap, against a real server in a background thread: redemptions, retried events, one coupon
for many orders, two scheduled runs, twin enrolments and parallel purchases all end exactly as if they had queued."""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from punchcard.jobs import service as jobs
from punchcard.kit.settings import Settings
from punchcard.ledger.domain import EntryKind
from punchcard.ledger.models import LedgerEntry, Lot
from punchcard.member.models import Member
from punchcard.outbox.models import OutboxEvent
from punchcard.survey.models import SurveyInvitation
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, deliver_outbox, earned, line
from tests.served import served
from tests.survey.test_surveys import CSRF

T = TypeVar("T")


@pytest.fixture(scope="module")
def server(database_url: str, engine: Engine) -> Iterator[str]:
    """A real uvicorn server on a free port, serving the test database from a background thread."""
    with served(Settings(fixed_now=NOW, database_url=database_url)) as url:
        yield url


@pytest.fixture
def http(server: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, timeout=60, limits=httpx.Limits(max_connections=40)) as client:
        yield client


def at_once(count: int, work: Callable[[int], T]) -> list[T]:
    """Run ``work(0..count-1)`` on ``count`` threads released together by a barrier, so the requests overlap."""
    barrier = threading.Barrier(count)

    def worker(index: int) -> T:
        barrier.wait(timeout=30)
        return work(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(worker, range(count)))


def statuses(responses: list[httpx.Response]) -> Counter[int]:
    return Counter(response.status_code for response in responses)


def codes(responses: list[httpx.Response], status: int) -> set[str]:
    return {response.json()["error"]["code"] for response in responses if response.status_code == status}


def auth(api: ApiClient) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.key}"}


def ledger_of(engine: Engine, api: ApiClient, external_id: str) -> list[LedgerEntry]:
    with Session(engine) as session:
        member = session.execute(
            select(Member.id).where(Member.program_id == api.program_id, Member.external_id == external_id)
        ).scalar_one()
        return list(session.execute(select(LedgerEntry).where(LedgerEntry.member_id == member)).scalars())


def test_twenty_redemptions_at_once_against_a_balance_for_three_issue_exactly_three_coupons(
    api: ApiClient, http: httpx.Client, engine: Engine
) -> None:
    # Given a member with 50 (welcome) + 1470 (adjustment) = 1520 points: enough for three 500-point rewards
    member = api.member()
    assert api.post(f"/api/v1/members/{member}/adjustments", {"points": 1470, "reason": "race"}).status_code == 201
    assert api.available(member) == 1520

    # When twenty redemptions with different Idempotency-Keys arrive at once
    responses = at_once(
        20,
        lambda i: http.post(
            f"/api/v1/members/{member}/redemptions",
            json={"reward": "five-euro-off"},
            headers={**auth(api), "Idempotency-Key": f"race-{i}"},
        ),
    )

    # Then exactly three succeed and seventeen are refused for lack of points
    assert statuses(responses) == {201: 3, 422: 17}, [r.text for r in responses if r.status_code not in (201, 422)]
    assert codes(responses, 422) == {"insufficient_points"}
    won = [response.json() for response in responses if response.status_code == 201]
    assert sorted(body["balance"]["available"] for body in won) == [20, 520, 1020]
    # ...the member holds exactly three coupons, the balance is exact and the ledger shows three spends
    coupons = api.get(f"/api/v1/members/{member}/coupons").json()["items"]
    assert sorted(coupon["code"] for coupon in coupons) == sorted(body["coupon"]["code"] for body in won)
    assert api.available(member) == 20
    spends = [entry.amount for entry in ledger_of(engine, api, member) if entry.kind == EntryKind.SPEND.value]
    assert sum(spends) == -1500


def test_ten_posts_of_one_event_at_once_award_its_points_once(
    api: ApiClient, http: httpx.Client, engine: Engine
) -> None:
    # Given a member with the welcome bonus and a purchase worth 50 points
    member = api.member()
    body = {
        "id": f"evt-{uuid.uuid4().hex[:8]}",
        "type": "purchase",
        "member_external_id": member,
        "occurred_at": "2026-06-01T12:00:00+00:00",
        "order_id": "O-race",
        "currency": "EUR",
        "lines": [line("BEANS-1", "coffee-beans", "12.50", 2)],
    }

    # When the shop posts it ten times at once
    responses = at_once(10, lambda _: http.post("/api/v1/events", json=body, headers=auth(api)))

    # Then one post processed it, nine replayed it with the very same body, and the points came once
    assert statuses(responses) == {201: 1, 200: 9}, [r.text for r in responses]
    assert len({response.text for response in responses}) == 1
    assert earned(responses[0].json()) == 50
    assert api.available(member) == 100
    earns = [entry for entry in ledger_of(engine, api, member) if entry.order_id == "O-race"]
    assert [(entry.account, entry.kind, entry.amount) for entry in earns if entry.account != "tier_credits"] == [
        ("points", "earn", 50)
    ]


def post_for_each(
    api: ApiClient,
    http: httpx.Client,
    members: list[str],
    event_id: Callable[[int], str],
    order_id: Callable[[int], str],
) -> list[httpx.Response]:
    """The same purchase posted for each of ``members`` at once, the ``i``-th under ``event_id(i)``/``order_id(i)``."""
    return at_once(
        len(members),
        lambda i: http.post(
            "/api/v1/events",
            json={
                "id": event_id(i),
                "type": "purchase",
                "member_external_id": members[i],
                "occurred_at": "2026-06-01T12:00:00+00:00",
                "order_id": order_id(i),
                "currency": "EUR",
                "lines": [line("BEANS-1", "coffee-beans", "12.50", 2)],
            },
            headers=auth(api),
        ),
    )


def only_one_earned(api: ApiClient, engine: Engine, members: list[str], responses: list[httpx.Response]) -> None:
    """One post was recorded and its member earned; every other member has only their welcome points, no order."""
    winner = next(i for i, response in enumerate(responses) if response.status_code == 201)
    assert [api.available(member) for member in members] == [100 if i == winner else 50 for i in range(len(members))]
    assert all(
        entry.order_id is None
        for i, member in enumerate(members)
        if i != winner
        for entry in ledger_of(engine, api, member)
    )


def test_one_order_id_posted_for_eight_members_at_once_is_recorded_once(
    api: ApiClient, http: httpx.Client, engine: Engine
) -> None:
    # Given eight members, each locked on their own row, so nothing but the order id itself stands between the posts
    members = [api.member() for _ in range(8)]
    order = f"O-{uuid.uuid4().hex[:8]}"

    # When the shop posts the same order id for each of them at once, under eight different event ids
    responses = post_for_each(api, http, members, lambda i: f"evt-{order}-{i}", lambda _: order)

    # Then exactly one member earned for it; the others were told the order is taken, and earned nothing
    assert statuses(responses) == {201: 1, 409: 7}, [r.text for r in responses]
    assert codes(responses, 409) == {"order_already_recorded"}
    only_one_earned(api, engine, members, responses)


def test_one_event_id_posted_for_eight_members_at_once_is_recorded_once(
    api: ApiClient, http: httpx.Client, engine: Engine
) -> None:
    # Given eight members, each locked on their own row, so nothing but the event id stands between the posts (on
    # PostgreSQL the event's row is written last, under an id reserved in its first query)
    members = [api.member() for _ in range(8)]
    event = f"evt-{uuid.uuid4().hex[:8]}"

    # When the shop posts one event id for each of them at once, each with its own order
    responses = post_for_each(api, http, members, lambda _: event, lambda i: f"{event}-{i}")

    # Then one member earned; the others' posts are another body under a recorded id, and wrote nothing
    assert statuses(responses) == {201: 1, 409: 7}, [r.text for r in responses]
    assert codes(responses, 409) == {"idempotency_conflict"}
    only_one_earned(api, engine, members, responses)


def test_one_coupon_redeemed_for_ten_orders_at_once_is_used_by_exactly_one(api: ApiClient, http: httpx.Client) -> None:
    # Given a member's five-euro-off coupon
    member = api.member()
    assert api.post(f"/api/v1/members/{member}/adjustments", {"points": 450, "reason": "race"}).status_code == 201
    redemption = api.post(
        f"/api/v1/members/{member}/redemptions", {"reward": "five-euro-off"}, headers={"Idempotency-Key": "coupon-race"}
    )
    assert redemption.status_code == 201, redemption.text
    code = redemption.json()["coupon"]["code"]

    # When ten checkouts redeem it for ten different orders at once
    responses = at_once(
        10, lambda i: http.post(f"/api/v1/coupons/{code}/redemptions", json={"order_id": f"O-{i}"}, headers=auth(api))
    )

    # Then exactly one order got it and nine were told it is taken
    assert statuses(responses) == {201: 1, 409: 9}, [r.text for r in responses]
    assert codes(responses, 409) == {"coupon_already_redeemed"}
    winner = next(f"O-{i}" for i, response in enumerate(responses) if response.status_code == 201)
    coupon = api.get(f"/api/v1/coupons/{code}").json()
    assert (coupon["status"], coupon["redeemed_by_order"]) == ("redeemed", winner)


def test_two_job_runs_at_once_vest_and_expire_each_lot_exactly_once(make_program: ProgramMaker, engine: Engine) -> None:
    # Given members who bought 400 days to 5 days before AT, in a program with a 14-day return window and points
    # that expire after 12 months: some lots are still pending, some are due to vest, some are due to expire too
    api = make_program({"points": {"pending_days": 14}})
    at = datetime(2026, 6, 1, tzinfo=UTC)
    members = []
    for days in (400, 395, 380, 370, 200, 100, 30, 10, 5):
        bought = at - timedelta(days=days)
        member = api.member(enrolled_at=(bought - timedelta(days=1)).isoformat())
        api.purchase(member, [line("MUG", "merch", "20.00")], occurred_at=bought.isoformat())
        members.append(member)
    with Session(engine) as session:
        lots = session.execute(select(Lot).where(Lot.program_id == api.program_id)).scalars().all()
        to_vest = {lot.id for lot in lots if lot.is_pending and lot.available_at is not None and lot.available_at <= at}
        to_expire = {
            lot.id: lot.remaining
            for lot in lots
            if lot.remaining > 0
            and lot.expires_at is not None
            and lot.expires_at <= at
            and (not lot.is_pending or lot.id in to_vest)
        }
        still_pending = {lot.id for lot in lots if lot.is_pending and lot.id not in to_vest}
    assert (len(to_vest), len(to_expire), len(still_pending)) == (7, 8, 2)  # of 9 welcome + 9 purchase lots

    # When two runs at the same moment start together, in small batches so that they interleave
    reports = at_once(2, lambda _: jobs.run(engine, at=at, now=at, batch_size=2, only=[api.slug]))

    # Then between them every due lot vested once and expired once, and nothing else moved
    assert sum(report.lots_vested for report in reports) == len(to_vest)
    assert sum(report.lots_expired for report in reports) == len(to_expire)
    with Session(engine) as session:
        entries = session.execute(
            select(
                LedgerEntry.lot_id, LedgerEntry.kind, LedgerEntry.account, func.count(), func.sum(LedgerEntry.amount)
            )
            .where(
                LedgerEntry.program_id == api.program_id,
                LedgerEntry.member_id.is_not(None),  # the members' legs (the program's mirror them)
                LedgerEntry.kind.in_(["vest", "expire"]),
            )
            .group_by(LedgerEntry.lot_id, LedgerEntry.kind, LedgerEntry.account)
        ).all()
        after = {lot.id: lot for lot in session.execute(select(Lot).where(Lot.program_id == api.program_id)).scalars()}
    vested = {(row[0], row[2]): (row[3], row[4]) for row in entries if row[1] == "vest"}
    assert {lot_id for lot_id, _ in vested} == to_vest
    assert all(count == 1 for count, _ in vested.values())
    expired = {row[0]: (row[3], row[4]) for row in entries if row[1] == "expire"}
    assert expired == {lot_id: (1, -remaining) for lot_id, remaining in to_expire.items()}
    assert all(after[lot_id].remaining == 0 for lot_id in to_expire)
    assert {lot_id for lot_id, lot in after.items() if lot.is_pending} == still_pending
    # ...the balances still add up, and a third run finds nothing left to do
    for member in members:
        points = api.points(member)
        entries_of = ledger_of(engine, api, member)
        assert points["available"] == sum(e.amount for e in entries_of if e.account == "points")
        assert points["pending"] == sum(e.amount for e in entries_of if e.account == "pending_points")
    again = jobs.run(engine, at=at, now=at, batch_size=2, only=[api.slug])
    assert (again.lots_vested, again.lots_expired) == (0, 0)


def test_ten_enrolments_of_one_external_id_at_once_create_one_member(
    api: ApiClient, http: httpx.Client, engine: Engine
) -> None:
    # When ten requests enrol the same shop customer at once
    external_id = f"twin-{uuid.uuid4().hex[:8]}"
    responses = at_once(
        10, lambda _: http.post("/api/v1/members", json={"external_id": external_id}, headers=auth(api))
    )

    # Then one created the member, nine were told it exists, and the welcome bonus came once
    assert statuses(responses) == {201: 1, 409: 9}, [r.text for r in responses]
    assert codes(responses, 409) == {"member_exists"}
    with Session(engine) as session:
        count = session.execute(
            select(func.count()).where(Member.program_id == api.program_id, Member.external_id == external_id)
        ).scalar_one()
    assert count == 1
    assert api.available(external_id) == 50
    assert [(e.kind, e.amount) for e in ledger_of(engine, api, external_id) if e.account == "points"] == [("earn", 50)]


def test_purchases_for_one_member_from_eight_threads_all_count(
    api: ApiClient, http: httpx.Client, engine: Engine
) -> None:
    # Given a member with the welcome bonus
    member = api.member()

    # When eight threads each post two purchases worth 24 points at once
    def two_purchases(thread: int) -> list[httpx.Response]:
        return [
            http.post(
                "/api/v1/events",
                headers=auth(api),
                json={
                    "id": f"evt-{thread}-{n}-{uuid.uuid4().hex[:6]}",
                    "type": "purchase",
                    "member_external_id": member,
                    "occurred_at": "2026-06-01T12:00:00+00:00",
                    "order_id": f"O-{thread}-{n}-{uuid.uuid4().hex[:6]}",
                    "currency": "EUR",
                    "lines": [line("BEANS-1", "coffee-beans", "12.00")],
                },
            )
            for n in range(2)
        ]

    responses = [response for pair in at_once(8, two_purchases) for response in pair]

    # Then every purchase earned its 24 points and the balance is exactly their sum plus the welcome bonus
    assert statuses(responses) == {201: 16}, [r.text for r in responses]
    assert [earned(response.json()) for response in responses] == [24] * 16
    assert api.available(member) == 50 + 16 * 24
    entries = ledger_of(engine, api, member)
    assert sum(e.amount for e in entries if e.account == "points") == 50 + 16 * 24
    assert len([e for e in entries if e.kind == "earn" and e.account == "points"]) == 17


def test_ten_answers_of_one_survey_invitation_at_once_record_one_and_grant_its_points_once(
    api: ApiClient, server: str, engine: Engine
) -> None:
    # Given a member invited to the demo's NPS survey (worth 20 points) by a purchase three days ago
    member = api.member()
    bought = NOW - timedelta(days=3, hours=1)
    api.purchase(member, [line("BEANS", "coffee-beans", "20.00")], occurred_at=bought.isoformat())
    deliver_outbox(api.client)
    jobs.run(engine, at=NOW, now=NOW, only=[api.slug])
    with Session(engine) as session:
        token = session.execute(
            select(SurveyInvitation.token).where(SurveyInvitation.program_id == api.program_id)
        ).scalar_one()
    before = api.available(member)
    page = f"/portal/{api.slug}/surveys/{token}"

    # When ten browsers (each its own cookies) send an answer at once
    def answer(index: int) -> httpx.Response:
        with httpx.Client(base_url=server, timeout=60) as browser:
            csrf = CSRF.search(browser.get(page).text)
            assert csrf is not None
            return browser.post(page, data={"score": str(index), "csrf": csrf.group(1)}, follow_redirects=False)

    responses = at_once(10, answer)

    # Then every browser is told it is done, one answer is kept, and its points came once
    assert statuses(responses) == {303: 10}
    with Session(engine) as session:
        row = session.execute(
            select(SurveyInvitation).where(SurveyInvitation.program_id == api.program_id)
        ).scalar_one()
        answered = session.execute(
            select(func.count()).where(OutboxEvent.program_id == api.program_id, OutboxEvent.type == "survey.answered")
        ).scalar_one()
    assert row.status == "answered"
    assert row.score in range(10)
    assert answered == 1
    assert api.available(member) == before + 20
    grants = [entry for entry in ledger_of(engine, api, member) if entry.rule_code == "survey:nps"]
    assert [(entry.account, entry.amount) for entry in grants] == [("points", 20)]
