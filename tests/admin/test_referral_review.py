"""The console's referrals page: the queue of held referrals with both members, the qualifying order and every flag
in words; approving or rejecting one with a reason through the review use case (audited, paid once, out of the
queue and into the recent decisions); a decision that comes second, also at the same moment, changes and pays
nothing; and the funnel with the revenue of referred members, each figure as the data made it, also in the API."""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from tests.admin.conftest import Console, audit_count, audit_entries, metric
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, deliver_outbox, line

from punchcard.kit.db import unit_of_work
from punchcard.member import service as members
from punchcard.outbox.models import OutboxEvent
from punchcard.referral import service as referrals
from punchcard.referral.errors import ReferralNotHeld
from punchcard.staff.domain import Action, Role

ONE_POINT_PER_EURO = [
    {"code": "per-euro", "name": "1 point per €", "when": "purchase", "then": {"points_per_currency_unit": 1}}
]
"""The only earning rule (no welcome bonus, no tier multiplier), so each balance is a plain sum."""
WHEN = NOW.isoformat()
ZONE = "Europe/Tallinn"


def program(make_program: ProgramMaker, **checks: str) -> ApiClient:
    section = {
        "referrer": {"points": 200},
        "referee": {"points": 100},
        "qualify": {"on": "first_purchase", "min_order_total": "20.00"},
        "caps": {"per_month": 10},
        "fraud_checks": {"self_referral": "hold", "existing_customer": "hold", **checks},
    }
    return make_program({"referrals": section, "earning_rules": ONE_POINT_PER_EURO, "timezone": ZONE})


def code_of(api: ApiClient, member: str) -> str:
    response = api.get(f"/api/v1/members/{member}/referral")
    assert response.status_code == 200, response.text
    return str(response.json()["code"])


def held_ids(api: ApiClient) -> list[int]:
    return [item["id"] for item in api.get("/api/v1/referrals").json()["referrals"]]


def stored(engine: Engine, api: ApiClient, referral_id: int) -> referrals.Referral:
    with unit_of_work(engine) as session:
        found = referrals.find(session, api.program_id, referral_id)
        assert found is not None
        session.expunge(found)
        return found


def member_id(engine: Engine, api: ApiClient, external_id: str) -> int:
    with unit_of_work(engine) as session:
        return members.get(session, api.program_id, external_id).id


def reviewed_events(engine: Engine, api: ApiClient) -> int:
    with unit_of_work(engine) as session:
        query = select(func.count()).where(
            OutboxEvent.program_id == api.program_id, OutboxEvent.type == "referral.reviewed"
        )
        return int(session.execute(query).scalar_one())


def article(page: str, referral_id: int) -> str:
    """The queue's box of one referral, as text without tags."""
    found = re.search(rf'<article class="review"[^>]*data-referral="{referral_id}">(.*?)</article>', page, re.S)
    assert found is not None, f"referral {referral_id} is not in the queue"
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", found.group(1))))


def decision_row(page: str, referral_id: int) -> list[str]:
    found = re.search(rf'<tr data-decided="{referral_id}">(.*?)</tr>', page, re.S)
    assert found is not None, f"referral {referral_id} is not among the decisions"
    return [html.unescape(cell.strip()) for cell in re.findall(r"<td>(.*?)</td>", found.group(1), re.S)]


def latest_rows(page: str) -> list[list[str]]:
    """The cells of the latest referrals' table, as text."""
    rows = re.findall(r'<tr data-referral-row="\d+">(.*?)</tr>', page, re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]
    return [[html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in row] for row in cells]


@pytest.fixture
def held(make_program: ProgramMaker) -> tuple[ApiClient, int]:
    """Anna's friend Ben, held for review: he shares her phone and says he had two orders; his 40.00 purchase
    qualified the referral while it waits."""
    api = program(make_program)
    api.member("anna", email="anna@example.com", name="Anna Kask", attributes={"phone": "+372 5555 1234"})
    api.member(
        "ben",
        email="ben@example.com",
        name="Ben Tamm",
        referred_by=code_of(api, "anna"),
        attributes={"phone": "00372 5555 1234", "orders_count": 2},
    )
    api.purchase("ben", [line("BEANS", "coffee-beans", "40.00")], order_id="ORDER-BEN", occurred_at=WHEN)
    [referral_id] = held_ids(api)
    return api, referral_id


def test_the_queue_shows_both_members_when_the_order_and_every_flag_in_words(
    held: tuple[ApiClient, int], signed_in: Callable[[Role], Console]
) -> None:
    api, referral_id = held
    page = signed_in(Role.VIEWER).page(f"/admin/p/{api.slug}/referrals")
    assert "Held for review (1)" in page
    shown = article(page, referral_id)
    assert f"Referral {referral_id}: Anna Kask brought Ben Tamm" in shown
    assert "Referrer Anna Kask anna@example.com" in shown
    assert "Friend Ben Tamm ben@example.com" in shown
    assert "Joined 2026-11-25 14:00 EET" in shown
    assert "Qualified 2026-11-25 14:00 EET" in shown
    assert "Qualifying order ORDER-BEN , €40.00" in shown
    flags = re.findall(r"<li><strong>(.*?)</strong>: (.*?)</li>", page)
    assert flags == [
        ("Self-referral", "the same phone number"),
        ("Already a customer", "the shop says they had 2 orders before"),
    ]
    # A viewer reads the queue but is offered no decision
    assert f"/referrals/{referral_id}/review" not in page
    assert "No decisions yet." in page


def test_approving_pays_both_sides_once_leaves_the_queue_and_is_audited(
    held: tuple[ApiClient, int], signed_in: Callable[[Role], Console], engine: Engine, client: TestClient
) -> None:
    api, referral_id = held
    console = signed_in(Role.SUPPORT)
    page = console.page(f"/admin/p/{api.slug}/referrals")
    assert f'action="/admin/p/{api.slug}/referrals/{referral_id}/review"' in page
    assert (api.available("anna"), api.available("ben")) == (0, 40)

    response = console.post(
        f"/admin/p/{api.slug}/referrals/{referral_id}/review", {"decision": "approve", "reason": "siblings, checked"}
    )

    assert (response.status_code, response.headers["location"]) == (
        303,
        f"/admin/p/{api.slug}/referrals?notice=approved",
    )
    deliver_outbox(client)
    deliver_outbox(client)
    assert (api.available("anna"), api.available("ben")) == (200, 40 + 100)
    after = console.page(response.headers["location"])
    assert "The referral was approved." in after
    assert "Held for review (0)" in after
    assert f'data-referral="{referral_id}"' not in after
    staff_email = re.search(r'<span class="who">([^ ]+) · support</span>', after)
    assert staff_email is not None
    assert decision_row(after, referral_id) == [
        "2026-11-25 14:00 EET",
        str(referral_id),
        "Ben Tamm",
        "Anna Kask",
        "approved",
        staff_email.group(1),
        "siblings, checked",
        "rewarded",
    ]
    found = stored(engine, api, referral_id)
    assert (found.status, found.reviewed_by, found.review_reason) == ("paid", staff_email.group(1), "siblings, checked")
    [entry] = audit_entries(engine, program_id=api.program_id, action=Action.REFERRAL_APPROVED.value)
    assert entry.member_id == member_id(engine, api, "ben")
    assert (entry.target, entry.reason) == (f"referral {referral_id}", "siblings, checked")
    assert entry.details == {"referrer": "anna", "referee": "ben", "status_after": "qualified"}
    assert entry.staff_id is not None
    assert reviewed_events(engine, api) == 1


def test_rejecting_needs_a_reason_and_pays_nothing(
    held: tuple[ApiClient, int], signed_in: Callable[[Role], Console], engine: Engine, client: TestClient
) -> None:
    api, referral_id = held
    console = signed_in(Role.OWNER)
    path = f"/admin/p/{api.slug}/referrals/{referral_id}/review"
    # Without a reason, nothing happens and the error stands by the reason's input
    refused = console.post(path, {"decision": "reject", "reason": " x "})
    assert refused.status_code == 422
    assert f'id="error-reason-{referral_id}">say why, in 3 to 400 characters' in refused.text
    assert f'id="reason-{referral_id}" name="reason"' in refused.text
    assert stored(engine, api, referral_id).status == "held"
    assert audit_count(engine, program_id=api.program_id) == 0
    # With one, the referral is rejected for good
    response = console.post(path, {"decision": "reject", "reason": "the same person twice"})
    assert (response.status_code, response.headers["location"]) == (
        303,
        f"/admin/p/{api.slug}/referrals?notice=rejected",
    )
    deliver_outbox(client)
    assert (api.available("anna"), api.available("ben")) == (0, 40)
    page = console.page(response.headers["location"])
    assert "The referral was rejected. It pays nothing." in page
    row = decision_row(page, referral_id)
    assert (row[4], row[6], row[7]) == ("rejected", "the same person twice", "rejected")
    assert stored(engine, api, referral_id).status == "rejected"
    [entry] = audit_entries(engine, program_id=api.program_id, action=Action.REFERRAL_REJECTED.value)
    assert (entry.reason, entry.details["status_after"]) == ("the same person twice", "rejected")


def test_a_second_decision_is_refused_with_who_decided_first_and_changes_nothing(
    held: tuple[ApiClient, int], signed_in: Callable[[Role], Console], engine: Engine, client: TestClient
) -> None:
    api, referral_id = held
    first, second = signed_in(Role.SUPPORT), signed_in(Role.OWNER)
    path = f"/admin/p/{api.slug}/referrals/{referral_id}/review"
    form = second.page(f"/admin/p/{api.slug}/referrals")  # the second opened the queue before the first decided
    assert f'action="{path}"' in form
    assert first.post(path, {"decision": "approve", "reason": "siblings"}).status_code == 303
    deliver_outbox(client)
    before = (api.available("anna"), api.available("ben"), audit_count(engine, program_id=api.program_id))

    late = second.post(path, {"decision": "reject", "reason": "looks like one person"})

    assert late.status_code == 409
    message = re.search(r'<div class="problem" role="alert" id="problem"><p>(.*?)</p>', late.text)
    assert message is not None
    decided_by = stored(engine, api, referral_id).reviewed_by
    assert html.unescape(message.group(1)) == (
        f"Referral {referral_id} was already approved by {decided_by} at 2026-11-25 14:00 EET. Your decision was not "
        "applied: nothing was paid or changed a second time."
    )
    deliver_outbox(client)
    assert (api.available("anna"), api.available("ben"), audit_count(engine, program_id=api.program_id)) == before
    assert stored(engine, api, referral_id).status == "paid"
    assert reviewed_events(engine, api) == 1


def test_decisions_sent_at_the_same_moment_decide_once_and_pay_once(
    held: tuple[ApiClient, int],
    signed_in: Callable[[Role], Console],
    engine: Engine,
    client: TestClient,
) -> None:
    api, referral_id = held
    consoles = [signed_in(Role.SUPPORT) for _ in range(6)]
    path = f"/admin/p/{api.slug}/referrals/{referral_id}/review"
    start = threading.Barrier(len(consoles))
    answers: dict[int, httpx.Response] = {}

    def decide(index: int) -> None:
        decision = "approve" if index % 2 == 0 else "reject"
        start.wait()
        answers[index] = consoles[index].post(path, {"decision": decision, "reason": f"decision {index}"})

    threads = [threading.Thread(target=decide, args=(index,)) for index in range(len(consoles))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    codes = sorted(response.status_code for response in answers.values())
    assert codes == [303, 409, 409, 409, 409, 409]
    [winner] = [index for index, response in answers.items() if response.status_code == 303]
    deliver_outbox(client)
    deliver_outbox(client)
    found = stored(engine, api, referral_id)
    assert found.review_reason == f"decision {winner}"
    if winner % 2 == 0:
        assert (found.status, api.available("anna"), api.available("ben")) == ("paid", 200, 140)
    else:
        assert (found.status, api.available("anna"), api.available("ben")) == ("rejected", 0, 40)
    assert audit_count(engine, program_id=api.program_id) == 1
    assert reviewed_events(engine, api) == 1


def test_the_review_use_case_makes_a_second_decision_wait_for_the_first_and_refuses_it(
    held: tuple[ApiClient, int], engine: Engine
) -> None:
    """The lock itself: while one decision's transaction is open, another on the same referral waits for it (both
    members' rows are locked, then the referral's), then sees it decided and is refused."""
    api, referral_id = held
    outcome: list[BaseException | None] = []
    second_started = threading.Event()

    def second() -> None:
        second_started.set()
        try:
            with unit_of_work(engine) as session:
                referrals.review(
                    session, api.program_id, referral_id, approve=False, reason="second", staff="b", now=NOW
                )
        except ReferralNotHeld as refused:
            outcome.append(refused)
        else:
            outcome.append(None)

    with unit_of_work(engine) as session:
        referrals.review(session, api.program_id, referral_id, approve=True, reason="first", staff="a", now=NOW)
        thread = threading.Thread(target=second)
        thread.start()
        second_started.wait()
        thread.join(timeout=0.5)
        assert thread.is_alive(), "the second decision did not wait for the first"
    thread.join()
    assert len(outcome) == 1
    assert isinstance(outcome[0], ReferralNotHeld)
    found = stored(engine, api, referral_id)
    assert (found.status, found.reviewed_by, found.review_reason) == ("qualified", "a", "first")


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MARKETER])
def test_staff_who_may_not_adjust_points_may_not_decide(
    role: Role, held: tuple[ApiClient, int], signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    api, referral_id = held
    response = signed_in(role).post(
        f"/admin/p/{api.slug}/referrals/{referral_id}/review", {"decision": "approve", "reason": "fine by me"}
    )
    assert response.status_code == 403
    assert f"the {role.value} role may not do this (adjust points)" in response.text
    assert stored(engine, api, referral_id).status == "held"
    assert audit_count(engine, program_id=api.program_id) == 0


def test_a_decision_without_the_forms_token_or_on_another_programs_referral_changes_nothing(
    held: tuple[ApiClient, int], make_program: ProgramMaker, signed_in: Callable[[Role], Console], engine: Engine
) -> None:
    api, referral_id = held
    console = signed_in(Role.OWNER)
    forged = console.post(
        f"/admin/p/{api.slug}/referrals/{referral_id}/review", {"decision": "approve", "reason": "ok"}, csrf=False
    )
    assert forged.status_code == 403
    other = program(make_program)
    elsewhere = console.post(
        f"/admin/p/{other.slug}/referrals/{referral_id}/review", {"decision": "approve", "reason": "wrong program"}
    )
    assert elsewhere.status_code == 404
    assert f"no referral {referral_id}" in elsewhere.text
    assert stored(engine, api, referral_id).status == "held"
    assert audit_count(engine, program_id=api.program_id) == 0


# --- the funnel and the revenue of referred members ---------------------------------------------------------------


def days_ago(days: int) -> str:
    return (NOW - timedelta(days=days)).isoformat()


def referral_scene(api: ApiClient, client: TestClient) -> None:
    """Three members share codes (Dora never brings anyone); five friends join: Ben qualifies and is paid, Cid buys
    too little, Eve is Carl under a second Gmail address (rejected), Fay had orders before she joined (held), Gus
    qualifies and refunds the order in full (reversed). Anna buys herself (she was not referred). Ben and Gus joined
    40 days ago, the others 10."""
    api.member("anna", email="anna@example.com", name="Anna Kask")
    api.member("carl", email="carl.berg@gmail.com", name="Carl Berg")
    api.member("dora", email="dora@example.com", name="Dora Mets")
    anna, carl = code_of(api, "anna"), code_of(api, "carl")
    code_of(api, "dora")
    joined_early, joined_late = days_ago(40), days_ago(10)
    api.member("ben", email="ben@example.com", referred_by=anna, enrolled_at=joined_early)
    api.member("gus", email="gus@example.com", referred_by=anna, enrolled_at=joined_early)
    api.member("cid", email="cid@example.com", referred_by=anna, enrolled_at=joined_late)
    api.member("eve", email="carlberg+2@gmail.com", referred_by=carl, enrolled_at=joined_late)
    api.member(
        "fay", email="fay@example.com", referred_by=carl, enrolled_at=joined_late, attributes={"orders_count": 3}
    )
    api.purchase("ben", [line("BEANS", "coffee-beans", "25.00")], shipping="4.90", occurred_at=days_ago(35))
    api.purchase("ben", [line("MUG", "mugs", "12.00")], occurred_at=days_ago(5))
    api.purchase("cid", [line("CUP", "drinks", "10.00")], occurred_at=days_ago(5))
    api.purchase("gus", [line("BEANS", "coffee-beans", "30.00")], order_id="ORDER-GUS", occurred_at=days_ago(35))
    api.purchase("anna", [line("BEANS", "coffee-beans", "50.00")], occurred_at=days_ago(5))
    deliver_outbox(client)
    api.refund("gus", "ORDER-GUS", occurred_at=days_ago(2), refund_lines=[{"sku": "BEANS", "quantity": 1}])
    deliver_outbox(client)


def test_the_funnel_and_the_revenue_of_referred_members_are_what_happened(
    make_program: ProgramMaker, signed_in: Callable[[Role], Console], client: TestClient
) -> None:
    api = program(make_program, self_referral="reject", existing_customer="hold")
    referral_scene(api, client)
    console = signed_in(Role.VIEWER)

    page = console.page(f"/admin/p/{api.slug}/referrals")

    figures = {key: metric(page, key) for key in ("codes", "sign_ups", "flagged", "qualified", "paid", "reversed")}
    assert figures == {
        "codes": "3",  # anna, carl, dora
        "sign_ups": "5",  # ben, gus, cid, eve, fay
        "flagged": "2",  # eve (self-referral, rejected), fay (held)
        "qualified": "2",  # ben, gus
        "paid": "2",  # ben, gus
        "reversed": "1",  # gus
    }
    assert metric(page, "rejected") == "1"
    # 25.00 + 4.90 + 12.00 (ben) + 10.00 (cid) + 30.00 (gus, before its refund); anna's own 50.00 is not referred
    assert metric(page, "revenue") == "€81.90"
    assert "4 orders by 3 referred members in the period." in page
    statuses = {cells[2]: cells[4] for cells in latest_rows(page)}
    assert statuses == {
        "ben": "rewarded",
        "gus": "reversed",
        "cid": "made",
        "eve": "rejected",
        "fay": "held for review",
    }
    # The last 30 days hold Cid's and Ben's later orders only, and the friends who joined 10 days ago
    recent = console.page(
        f"/admin/p/{api.slug}/referrals",
        **{"from": (NOW - timedelta(days=29)).date().isoformat(), "to": NOW.date().isoformat()},
    )
    assert (metric(recent, "sign_ups"), metric(recent, "flagged"), metric(recent, "revenue")) == ("3", "2", "€22.00")


def test_the_stats_api_gives_the_revenue_of_referred_members_in_the_programs_currency(
    make_program: ProgramMaker, client: TestClient
) -> None:
    api = program(make_program, self_referral="reject")
    referral_scene(api, client)

    def stats(since: str, until: str) -> dict[str, Any]:
        response = api.get("/api/v1/referrals/stats", params={"from": since, "to": until})
        assert response.status_code == 200, response.text
        return dict(response.json())

    everything = stats(days_ago(60), (NOW + timedelta(seconds=1)).isoformat())
    assert everything["revenue"] == {"amount": "81.90", "currency": "EUR"}
    assert {key: everything[key] for key in ("codes", "sign_ups", "flagged", "qualified", "paid", "reversed")} == {
        "codes": 3,
        "sign_ups": 5,
        "flagged": 2,
        "qualified": 2,
        "paid": 2,
        "reversed": 1,
    }
    # [from, to): the orders of 35 days ago alone, then none
    assert stats(days_ago(36), days_ago(34))["revenue"] == {"amount": "59.90", "currency": "EUR"}
    assert stats(days_ago(34), days_ago(6))["revenue"] == {"amount": "0.00", "currency": "EUR"}
    assert (
        api.as_integration().get("/api/v1/referrals/stats", params={"from": days_ago(1), "to": WHEN}).status_code == 403
    )


def test_the_referrals_page_is_in_the_navigation_only_for_programs_with_referrals(
    make_program: ProgramMaker, signed_in: Callable[[Role], Console]
) -> None:
    console = signed_in(Role.VIEWER)
    with_referrals = program(make_program)
    page = console.page(f"/admin/p/{with_referrals.slug}/dashboard")
    assert f'<a href="/admin/p/{with_referrals.slug}/referrals">Referrals</a>' in page
    without = make_program({"referrals": None})
    assert f"/admin/p/{without.slug}/referrals" not in console.page(f"/admin/p/{without.slug}/dashboard")
    # The page itself still answers (referrals made under an earlier version stay visible)
    assert "This program's file has no <code>referrals</code> section" in console.page(
        f"/admin/p/{without.slug}/referrals"
    )
