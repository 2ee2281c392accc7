"""Money adds up whatever happens to it: for any sequence of redemptions, refunds and an expiry of a gift card, and of
grants, spends, refunds and conversions of a member's store credit, each balance equals its ledger entries, never
goes below zero, and what was issued equals what is left plus what was spent, less what came back, plus what
expired."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from punchcard.kit.db import unit_of_work
from punchcard.ledger import money
from punchcard.ledger.verify import verify
from punchcard.member import service as members
from punchcard.program import service as programs
from punchcard.wallet import service as gift_cards
from tests.factories import ApiClient, ProgramMaker

EXAMPLES = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
CARD = 5000
ORDERS = ("order-a", "order-b", "order-c")

cents = st.integers(min_value=1, max_value=3000)
card_moves = st.lists(
    st.tuples(st.sampled_from(["redemptions", "refunds"]), cents, st.sampled_from(ORDERS)), max_size=12
)
credit_moves = st.lists(
    st.one_of(
        st.tuples(st.just("grant"), cents),
        st.tuples(st.just("spend"), cents),
        st.tuples(st.just("refund"), cents),
        st.tuples(st.just("convert"), st.integers(min_value=100, max_value=900)),
    ),
    max_size=12,
)


@pytest.fixture
def api(make_program: ProgramMaker) -> ApiClient:
    return make_program({"store_credit": {"conversion": {"points": 3, "amount": "0.02", "minimum_points": 0}}})


def euros(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def minor(text: str) -> int:
    units, cents_part = text.split(".")
    return int(units) * 100 + int(cents_part)


@given(moves=card_moves, expire=st.booleans())
@EXAMPLES
def test_a_gift_cards_money_is_always_accounted_for(
    api: ApiClient, engine: Engine, moves: list[tuple[str, int, str]], expire: bool
) -> None:
    run = uuid.uuid4().hex
    issued = api.post(
        "/api/v1/gift-cards",
        {"amount": euros(CARD), "currency": "EUR", "expires_at": "2030-01-01T00:00:00+00:00"},
        headers={"Idempotency-Key": f"{run}-issue"},
    ).json()
    code, card_id = issued["code"], issued["id"]
    balance, paid = CARD, dict.fromkeys(ORDERS, 0)

    for index, (what, amount, order) in enumerate(moves):
        response = api.post(
            f"/api/v1/gift-cards/{code}/{what}",
            {"amount": euros(amount), "order_id": f"{run}-{order}"},
            headers={"Idempotency-Key": f"{run}-{index}"},
        )
        allowed = amount <= balance if what == "redemptions" else amount <= paid[order]
        assert response.status_code == (201 if allowed else 409), response.text
        if allowed:
            sign = -1 if what == "redemptions" else 1
            balance, paid[order] = balance + sign * amount, paid[order] - sign * amount
        assert minor(api.get(f"/api/v1/gift-cards/{code}").json()["balance"]) == balance

    if expire:
        with unit_of_work(engine) as session:
            terms = programs.current(session, api.program_id).wallet_terms
            moment = datetime.fromisoformat("2030-01-02T00:00:00+00:00")
            gift_cards.expire_due(session, terms, at=moment, now=moment)

    with Session(engine) as session:
        totals = money.card_totals(session, card_id)
        left = money.card_balance(session, card_id)
        assert verify(session, api.program_id).is_balanced
    spent, refunded, expired = -totals.get("spend", 0), totals.get("refund", 0), -totals.get("expire", 0)
    assert left == (0 if expire else balance) >= 0
    assert totals["issue"] == CARD == left + spent - refunded + expired
    assert expired == (balance if expire else 0)


@given(moves=credit_moves)
@EXAMPLES
def test_a_members_store_credit_equals_its_entries_and_never_goes_below_zero(
    api: ApiClient, engine: Engine, moves: list[tuple[str, int]]
) -> None:
    run = uuid.uuid4().hex
    member = api.member(f"m-{run[:12]}")
    assert api.post(f"/api/v1/members/{member}/adjustments", {"points": 3000, "reason": "start"}).status_code == 201
    credit, points = 0, 3050

    for index, (what, amount) in enumerate(moves):
        key = {"Idempotency-Key": f"{run}-{index}"}
        order = {"order_id": f"{run}-order"}
        expected = 201
        if what == "grant":
            body: dict[str, Any] = {"amount": euros(amount), "reason": "goodwill"}
            response = api.post(f"/api/v1/members/{member}/store-credit/grants", body, headers=key)
            credit += amount
        elif what == "spend":
            body = {"amount": euros(amount), **order}
            response = api.post(f"/api/v1/members/{member}/store-credit/redemptions", body, headers=key)
            if amount <= credit:
                credit = credit - amount
            else:
                expected = 409
        elif what == "refund":
            body = {"amount": euros(amount), **order}
            response = api.post(f"/api/v1/members/{member}/store-credit/refunds", body, headers=key)
            credit += amount
        else:
            response = api.post(f"/api/v1/members/{member}/conversions", {"points": amount}, headers=key)
            worth = amount * 2 // 3  # 3 points are worth 2 cents; only the points the whole cents cost are spent
            cost = -(-worth * 3 // 2)
            if cost <= points:
                credit, points = credit + worth, points - cost
            else:
                expected = 422
        assert response.status_code == expected, response.text
        shown = api.get(f"/api/v1/members/{member}/store-credit").json()
        assert minor(shown["balance"]) == credit >= 0
        assert api.available(member) == points

    with Session(engine) as session:
        member_id = members.get(session, api.program_id, member).id
        assert money.credit(session, member_id).available == credit
        assert verify(session, api.program_id).is_balanced
