"""Referrals through the API: a member's code and link, a friend joining with it, the first purchase of at least the
minimum paying both sides once (the friend in their own event, the referrer just after), fraud checks holding or
rejecting with their reasons, staff review, caps, payment when the points vest, and a full refund taking back both
rewards."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from punchcard.jobs import service as jobs
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, deliver_outbox, error_of, line

REFERRALS: dict[str, Any] = {
    "referrals": {
        "referrer": {"points": 200},
        "referee": {"points": 100},
        "qualify": {"on": "first_purchase", "min_order_total": "20.00"},
        "caps": {"per_month": 10},
        "fraud_checks": {"self_referral": "reject"},
    }
}
WHEN = NOW.isoformat()
ONE_POINT_PER_EURO = [
    {"code": "per-euro", "name": "1 point per €", "when": "purchase", "then": {"points_per_currency_unit": 1}}
]
"""The only earning rule of these programs (no welcome bonus, no tier multiplier), so each test's sums are plain."""


def program(make_program: ProgramMaker, *, points: dict[str, Any] | None = None, **changes: Any) -> ApiClient:
    section = {**REFERRALS["referrals"], **changes}
    return make_program({"referrals": section, "earning_rules": ONE_POINT_PER_EURO, "points": points or {}})


def referral_of(api: ApiClient, member: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/members/{member}/referral")
    assert response.status_code == 200, response.text
    return dict(response.json())


def friend_of(api: ApiClient, referrer: str, name: str, **fields: Any) -> str:
    code = referral_of(api, referrer)["code"]
    return api.member(f"{name}-{api.slug}", email=f"{name}@example.com", name=name.title(), referred_by=code, **fields)


def effects(response: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [effect for effect in response["effects"] if effect["type"] == kind]


def test_a_member_has_one_code_and_a_link_to_share(make_program: ProgramMaker) -> None:
    api = program(make_program)
    anna = api.member("anna", email="anna@example.com", name="Anna Kask")
    first, again = referral_of(api, anna), referral_of(api, anna)
    assert first["code"] == again["code"]
    assert len(first["code"]) == 8
    assert first["url"].endswith(f"/portal/{api.slug}/join?ref={first['code']}")
    assert first["referred"] == []
    assert first["earned"] == 0


def test_the_program_may_name_the_shops_page_as_the_link(make_program: ProgramMaker) -> None:
    api = program(make_program, share_url="https://shop.example/join?ref={code}")
    anna = api.member("anna")
    found = referral_of(api, anna)
    assert found["url"] == f"https://shop.example/join?ref={found['code']}"


def test_a_friends_first_purchase_of_the_minimum_pays_both_sides_once(
    make_program: ProgramMaker, client: TestClient
) -> None:
    api = program(make_program)
    anna = api.member("anna", email="anna@example.com", name="Anna Kask")
    ben = friend_of(api, anna, "ben")
    small = api.purchase(ben, [line("CUP", "drinks", "19.99")], occurred_at=WHEN)
    assert effects(small, "referral_rewarded") == []
    qualifying = api.purchase(ben, [line("BEANS", "coffee-beans", "25.00")], occurred_at=WHEN)
    [rewarded] = effects(qualifying, "referral_rewarded")
    assert rewarded["role"] == "referee"
    assert rewarded["points"] == 100
    assert qualifying["balance"]["available"] == api.available(ben)  # the answer counts the friend's reward
    before = api.available(anna)
    deliver_outbox(client)
    assert api.available(anna) == before + 200
    later = api.purchase(ben, [line("BEANS", "coffee-beans", "25.00")], occurred_at=WHEN)
    assert effects(later, "referral_rewarded") == []
    deliver_outbox(client)
    assert api.available(anna) == before + 200
    shown = referral_of(api, anna)
    assert shown["earned"] == 200
    assert [(friend["name"], friend["status"], friend["points"]) for friend in shown["referred"]] == [
        ("Ben", "paid", 200)
    ]


def test_an_unknown_code_refuses_the_sign_up_and_creates_nobody(make_program: ProgramMaker) -> None:
    api = program(make_program)
    response = api.post("/api/v1/members", {"external_id": "ben", "referred_by": "NOSUCHXX"})
    error_of(response, 422, "referral_code_not_found")
    assert api.get("/api/v1/members/ben").status_code == 404


def test_a_code_given_to_a_program_without_referrals_is_refused(make_program: ProgramMaker) -> None:
    api = make_program()
    response = api.post("/api/v1/members", {"external_id": "ben", "referred_by": "ABCDEFGH"})
    error_of(response, 422, "referrals_not_offered")


def test_a_self_referral_by_a_second_gmail_address_is_rejected_with_its_reason(
    make_program: ProgramMaker, client: TestClient
) -> None:
    api = program(make_program)
    anna = api.member("anna", email="anna.kask@gmail.com")
    code = referral_of(api, anna)["code"]
    twin = api.post(
        "/api/v1/members", {"external_id": "anna-2", "email": "annakask+2@googlemail.com", "referred_by": code}
    )
    assert twin.status_code == 201
    response = api.purchase("anna-2", [line("BEANS", "coffee-beans", "40.00")], occurred_at=WHEN)
    assert effects(response, "referral_rewarded") == []
    deliver_outbox(client)
    assert referral_of(api, anna)["referred"][0]["status"] == "rejected"
    assert api.available(anna) == 0


def test_a_held_referral_waits_for_review_and_pays_once_approved(
    make_program: ProgramMaker, client: TestClient
) -> None:
    api = program(make_program, fraud_checks={"self_referral": "hold"})
    anna = api.member("anna", email="anna@example.com", attributes={"phone": "+372 5555 1234"})
    code = referral_of(api, anna)["code"]
    api.member("ben", email="ben@example.com", referred_by=code, attributes={"phone": "00372 5555 1234"})
    response = api.purchase("ben", [line("BEANS", "coffee-beans", "40.00")], occurred_at=WHEN)
    assert effects(response, "referral_rewarded") == []
    queue = api.get("/api/v1/referrals").json()["referrals"]
    assert [(item["referee"], item["flags"]) for item in queue] == [
        ("ben", [{"check": "self_referral", "reason": "the same phone number"}])
    ]
    assert api.as_integration().get("/api/v1/referrals").status_code == 403
    reviewed = api.post(f"/api/v1/referrals/{queue[0]['id']}/review", {"decision": "approve", "reason": "siblings"})
    assert reviewed.status_code == 200, reviewed.text
    assert reviewed.json()["review_reason"] == "siblings"
    deliver_outbox(client)
    assert (api.available("ben"), api.available(anna)) == (100 + 40, 200)
    again = api.post(f"/api/v1/referrals/{queue[0]['id']}/review", {"decision": "reject", "reason": "changed mind"})
    error_of(again, 409, "referral_not_held")


def test_the_referrers_monthly_cap_stops_their_reward_not_the_friends(
    make_program: ProgramMaker, client: TestClient
) -> None:
    api = program(make_program, caps={"per_month": 2})
    anna = api.member("anna", email="anna@example.com")
    for name in ("ben", "cai", "dan"):
        friend = friend_of(api, anna, name)
        response = api.purchase(friend, [line("BEANS", "coffee-beans", "20.00")], occurred_at=WHEN)
        assert effects(response, "referral_rewarded")[0]["points"] == 100
        deliver_outbox(client)
    assert api.available(anna) == 400
    assert [friend["points"] for friend in referral_of(api, anna)["referred"]] == [0, 200, 200]


def test_a_referral_paid_when_points_vest_waits_for_the_return_window(
    make_program: ProgramMaker, client: TestClient, engine: Engine
) -> None:
    api = program(make_program, points={"pending_days": 14}, pay="when_points_vest")
    anna = api.member("anna", email="anna@example.com")
    ben = friend_of(api, anna, "ben")
    response = api.purchase(ben, [line("BEANS", "coffee-beans", "30.00")], occurred_at=WHEN)
    assert effects(response, "referral_rewarded") == []
    deliver_outbox(client)
    jobs.run(engine, at=NOW + timedelta(days=13), now=NOW + timedelta(days=13), only=[api.slug])
    assert api.available(anna) == 0
    report = jobs.run(engine, at=NOW + timedelta(days=15), now=NOW + timedelta(days=15), only=[api.slug])
    assert report.referrals == 1
    assert api.available(anna) == 200
    assert api.points(ben)["available"] == 100 + 30


def test_a_full_refund_takes_back_both_rewards_once_even_in_parts(
    make_program: ProgramMaker, client: TestClient
) -> None:
    api = program(make_program)
    anna = api.member("anna", email="anna@example.com")
    ben = friend_of(api, anna, "ben", enrolled_at=(NOW - timedelta(days=3)).isoformat())
    order = "ORDER-BEN-1"
    bought = (NOW - timedelta(days=2)).isoformat()
    api.purchase(ben, [line("BEANS", "coffee-beans", "20.00", quantity=2)], order_id=order, occurred_at=bought)
    deliver_outbox(client)
    assert (api.available(ben), api.available(anna)) == (100 + 40, 200)
    later = (NOW - timedelta(days=1)).isoformat()
    half = api.refund(ben, order, refund_lines=[{"sku": "BEANS", "quantity": 1}], occurred_at=later)
    assert effects(half, "points_revoked") == []
    deliver_outbox(client)
    assert api.available(anna) == 200
    rest = api.refund(ben, order, refund_lines=[{"sku": "BEANS", "quantity": 1}], occurred_at=later)
    assert effects(rest, "points_revoked") == [{"type": "points_revoked", "points": 100, "cause": "referral"}]
    deliver_outbox(client)
    deliver_outbox(client)
    assert (api.available(ben), api.available(anna)) == (0, 0)
    assert referral_of(api, anna)["referred"][0]["status"] == "reversed"
