"""Cashback: an earning rule that gives store credit instead of points, a percentage of the lines it selects, pending
inside the return window, spendable when the jobs close it, and taken back by refunds of the lines it was paid on."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from punchcard.ledger.verify import verify
from punchcard.program.service import parse_text
from tests.factories import ApiClient, ProgramMaker, line, run_jobs

ONE_POINT = {
    "code": "one-point",
    "name": {"en": "1 point per €"},
    "when": "purchase",
    "then": {"points_per_currency_unit": 1},
}
CASHBACK = {
    "code": "merch-cashback",
    "name": {"en": "2% back on merch"},
    "when": "purchase",
    "then": {"cashback_percent": 2, "lines": {"categories": ["merch"]}},
}
ORDER = [line("BEANS", "coffee-beans", "12.50", 2), line("MUG", "merch", "9.99"), line("TEE", "merch", "25.00")]


def program(make_program: ProgramMaker, *, pending_days: int = 0, rule: dict[str, Any] = CASHBACK) -> ApiClient:
    return make_program({"earning_rules": [ONE_POINT, rule], "points": {"pending_days": pending_days}})


def credit(api: ApiClient, member: str) -> tuple[str, str]:
    shown = api.get(f"/api/v1/members/{member}/store-credit").json()
    return shown["balance"], shown["pending"]


def cashback_effects(answer: dict[str, Any]) -> list[dict[str, Any]]:
    return [effect for effect in answer["effects"] if effect["type"].startswith("cashback")]


def test_a_purchase_earns_its_percentage_of_the_selected_lines_as_credit_and_points_for_the_rest(
    make_program: ProgramMaker,
) -> None:
    api = program(make_program)
    anna = api.member()

    answer = api.purchase(anna, ORDER, order_id="O-1")

    # 2% of 9.99 is 0.1998, of 25.00 is 0.50: each rounded down to the cent, 0.19 + 0.50
    assert cashback_effects(answer) == [
        {"type": "cashback_earned", "amount_minor": 69, "currency": "EUR", "pending": False, "available_at": None}
    ]
    assert credit(api, anna) == ("0.69", "0.00")
    assert api.available(anna) == 59  # the points rule still gives points on the whole order


def test_cashback_follows_its_rules_conditions(make_program: ProgramMaker) -> None:
    gold_only = {**CASHBACK, "if": {"tier": ["gold"]}}
    api = program(make_program, rule=gold_only)
    anna = api.member()

    answer = api.purchase(anna, ORDER, order_id="O-1")

    assert cashback_effects(answer) == []
    assert credit(api, anna) == ("0.00", "0.00")


def test_inside_the_return_window_cashback_waits_and_the_jobs_make_it_spendable(
    make_program: ProgramMaker, engine: Engine
) -> None:
    api = program(make_program, pending_days=14)
    anna = api.member()

    answer = api.purchase(anna, ORDER, order_id="O-1", occurred_at="2026-11-01T10:00:00+00:00")
    pending = credit(api, anna)
    run_jobs(api, engine, "2026-11-14T21:00:00+00:00")  # the window's last local day has not ended
    still = credit(api, anna)
    run_jobs(api, engine, "2026-11-14T22:00:00+00:00")

    assert cashback_effects(answer)[0]["pending"] is True
    assert pending == still == ("0.00", "0.69")
    assert credit(api, anna) == ("0.69", "0.00")
    with Session(engine) as session:
        assert verify(session, api.program_id).is_balanced


def test_a_refund_of_a_line_takes_back_that_lines_cashback_only(make_program: ProgramMaker, engine: Engine) -> None:
    api = program(make_program, pending_days=14)
    anna = api.member()
    api.purchase(anna, ORDER, order_id="O-1", occurred_at="2026-11-01T10:00:00+00:00")

    coffee = api.refund(anna, "O-1", refund_lines=[{"sku": "BEANS", "quantity": 2}])
    tee = api.refund(anna, "O-1", refund_lines=[{"sku": "TEE", "quantity": 1}])

    assert cashback_effects(coffee) == []
    assert cashback_effects(tee) == [{"type": "cashback_reversed", "amount_minor": 50, "currency": "EUR"}]
    assert credit(api, anna) == ("0.00", "0.19")
    with Session(engine) as session:
        assert verify(session, api.program_id).is_balanced


def test_a_refund_of_an_amount_takes_back_its_share_of_all_the_cashback(make_program: ProgramMaker) -> None:
    api = program(make_program)
    anna = api.member()
    api.purchase(anna, ORDER, order_id="O-1")  # 59.99 with no shipping

    half = api.refund(anna, "O-1", amount="30.00")
    rest = api.refund(anna, "O-1", amount="29.99")

    assert cashback_effects(half) == [{"type": "cashback_reversed", "amount_minor": 34, "currency": "EUR"}]
    assert cashback_effects(rest) == [{"type": "cashback_reversed", "amount_minor": 35, "currency": "EUR"}]
    assert credit(api, anna) == ("0.00", "0.00")


def test_cashback_already_spent_is_not_taken_below_zero_and_is_said_to_be_forgiven(
    make_program: ProgramMaker, engine: Engine
) -> None:
    api = program(make_program)
    anna = api.member()
    api.purchase(anna, ORDER, order_id="O-1")
    spent = api.post(
        f"/api/v1/members/{anna}/store-credit/redemptions",
        {"amount": "0.60", "order_id": "O-2"},
        headers={"Idempotency-Key": "spend"},
    )
    assert spent.status_code == 201, spent.text

    refund = api.refund(anna, "O-1", amount="59.99")

    assert cashback_effects(refund) == [{"type": "cashback_reversed", "amount_minor": 9, "currency": "EUR"}]
    assert credit(api, anna) == ("0.00", "0.00")
    with Session(engine) as session:
        assert verify(session, api.program_id).is_balanced


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        ({**CASHBACK, "when": "review"}, "use it with when: purchase"),
        ({**CASHBACK, "limit": {"times": 1, "per": "day"}}, "a cashback rule gives none"),
        ({**CASHBACK, "then": {"cashback_percent": 2, "points": 5}}, "give exactly one of"),
        ({**CASHBACK, "then": {"cashback_percent": 0}}, "greater than 0"),
    ],
)
def test_a_cashback_rule_that_cannot_work_is_refused_in_the_program_file(rule: dict[str, Any], message: str) -> None:
    import json

    text = json.dumps(
        {
            "slug": "x",
            "name": "X",
            "currency": "EUR",
            "timezone": "Europe/Tallinn",
            "languages": ["en"],
            "earning_rules": [rule],
        }
    )

    with pytest.raises(Exception, match=message):
        parse_text(text, "json")
