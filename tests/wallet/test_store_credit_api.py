"""A member's store credit through the API: granted by staff with a reason, spent at checkout, paid into by refunds,
and bought with points at the program's rate; each exactly once per Idempotency-Key, none below zero, and none of it
mixed into the member's points."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from punchcard.ledger.verify import verify
from tests.factories import ApiClient, ProgramMaker, error_of, ledger_items

CONVERSION = {"store_credit": {"conversion": {"points": 100, "amount": "1.00", "minimum_points": 200}}}


@pytest.fixture
def api(make_program: ProgramMaker) -> ApiClient:
    return make_program(CONVERSION)


def post(api: ApiClient, path: str, body: dict[str, Any], key: str) -> httpx.Response:
    return api.post(path, body, headers={"Idempotency-Key": key})


def grant(api: ApiClient, member: str, amount: str, key: str = "grant-1", reason: str = "Late delivery") -> None:
    response = post(api, f"/api/v1/members/{member}/store-credit/grants", {"amount": amount, "reason": reason}, key)
    assert response.status_code == 201, response.text


def spend(api: ApiClient, member: str, amount: str, order_id: str, key: str) -> httpx.Response:
    return post(
        api, f"/api/v1/members/{member}/store-credit/redemptions", {"amount": amount, "order_id": order_id}, key
    )


def credit(api: ApiClient, member: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/members/{member}/store-credit")
    assert response.status_code == 200, response.text
    return dict(response.json())


def give_points(api: ApiClient, member: str, points: int) -> None:
    response = api.post(f"/api/v1/members/{member}/adjustments", {"points": points, "reason": "test"})
    assert response.status_code == 201, response.text


def test_staff_grant_credit_with_a_reason_that_the_history_shows(api: ApiClient) -> None:
    anna = api.member()

    grant(api, anna, "5.00", reason="Late delivery")

    shown = credit(api, anna)
    assert (shown["currency"], shown["balance"], shown["pending"]) == ("EUR", "5.00", "0.00")
    assert [(line["kind"], line["amount"], line["description"]) for line in shown["history"]] == [
        ("adjust", "5.00", "Late delivery")
    ]


def test_only_an_admin_key_grants_credit(api: ApiClient) -> None:
    anna = api.member()

    response = api.as_integration().post(
        f"/api/v1/members/{anna}/store-credit/grants",
        {"amount": "5.00", "reason": "x"},
        headers={"Idempotency-Key": "k"},
    )

    error_of(response, 403, "forbidden")
    assert credit(api, anna)["balance"] == "0.00"


def test_credit_pays_an_order_once_per_key_and_never_more_than_it_holds(api: ApiClient, engine: Engine) -> None:
    anna = api.member()
    grant(api, anna, "5.00")

    first = spend(api, anna, "3.00", "order-1", "pay-1")
    again = spend(api, anna, "3.00", "order-1", "pay-1")
    too_much = spend(api, anna, "2.01", "order-2", "pay-2")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert first.json()["store_credit"]["balance"] == "2.00"
    assert error_of(too_much, 409, "store_credit_insufficient")["details"] == [
        {"balance_minor": 200, "asked_minor": 201}
    ]
    assert credit(api, anna)["balance"] == "2.00"
    with Session(engine) as session:
        assert verify(session, api.program_id).is_balanced


def test_a_refund_into_credit_returns_what_credit_paid_and_issues_the_rest(api: ApiClient) -> None:
    anna = api.member()
    grant(api, anna, "5.00")
    spend(api, anna, "4.00", "order-1", "pay-1")

    response = post(
        api, f"/api/v1/members/{anna}/store-credit/refunds", {"amount": "10.00", "order_id": "order-1"}, "r"
    )

    assert response.status_code == 201, response.text
    assert response.json()["store_credit"]["balance"] == "11.00"
    lines = credit(api, anna)["history"]
    assert sorted((line["kind"], line["amount"]) for line in lines[:2]) == [("issue", "6.00"), ("refund", "4.00")]


def test_a_blocked_member_cannot_spend_credit(api: ApiClient) -> None:
    anna = api.member()
    grant(api, anna, "5.00")
    assert api.patch(f"/api/v1/members/{anna}", {"status": "blocked"}).status_code == 200

    error_of(spend(api, anna, "1.00", "order-1", "pay-1"), 422, "member_blocked")
    assert credit(api, anna)["balance"] == "5.00"


def test_points_convert_to_credit_at_the_programs_rate(api: ApiClient, engine: Engine) -> None:
    anna = api.member()  # 50 points for joining
    give_points(api, anna, 300)

    response = post(api, f"/api/v1/members/{anna}/conversions", {"points": 250}, "convert-1")

    assert response.status_code == 201, response.text
    assert (response.json()["points"], response.json()["amount"]) == (250, "2.50")
    assert api.available(anna) == 100
    assert credit(api, anna)["balance"] == "2.50"
    assert ledger_items(api, anna)[0]["kind"] == "convert"
    with Session(engine) as session:
        assert verify(session, api.program_id).is_balanced


def test_a_conversion_sent_again_converts_once(api: ApiClient) -> None:
    anna = api.member()
    give_points(api, anna, 300)

    first = post(api, f"/api/v1/members/{anna}/conversions", {"points": 200}, "convert-1")
    again = post(api, f"/api/v1/members/{anna}/conversions", {"points": 200}, "convert-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert api.available(anna) == 150
    assert credit(api, anna)["balance"] == "2.00"


@pytest.mark.parametrize(
    ("points", "status", "code"),
    [(199, 422, "conversion_below_minimum"), (400, 422, "insufficient_points")],
)
def test_a_conversion_that_cannot_be_made_changes_nothing(api: ApiClient, points: int, status: int, code: str) -> None:
    anna = api.member()
    give_points(api, anna, 300)

    error_of(post(api, f"/api/v1/members/{anna}/conversions", {"points": points}, "c"), status, code)

    assert api.available(anna) == 350
    assert credit(api, anna)["balance"] == "0.00"


def test_a_program_without_a_conversion_rate_does_not_convert(make_program: ProgramMaker) -> None:
    api = make_program({"store_credit": {"conversion": None}})
    anna = api.member()

    error_of(post(api, f"/api/v1/members/{anna}/conversions", {"points": 50}, "c"), 409, "conversion_not_offered")

    assert api.available(anna) == 50


def test_money_stays_out_of_the_members_points_history(api: ApiClient) -> None:
    anna = api.member()
    grant(api, anna, "5.00")

    assert [item["kind"] for item in ledger_items(api, anna)] == ["earn"]
    assert api.available(anna) == 50
