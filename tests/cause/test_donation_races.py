"""Donations that really overlap, against a real server: twenty donations of one member whose points cover five give
exactly five, and twenty members giving at once never match past the month's budget."""

from __future__ import annotations

from collections import Counter

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from punchcard.ledger.verify import verify
from tests.cause.test_donations_api import BALTIC_SEA, cause_totals, give_points
from tests.factories import ApiClient, ProgramMaker
from tests.invariants.test_races import at_once, auth, http, server  # noqa: F401 (fixtures, found by name)


def program(make_program: ProgramMaker) -> ApiClient:
    return make_program({"causes": [BALTIC_SEA]})  # matched 1:1 up to 5.00 a month


def test_twenty_donations_at_once_of_points_that_cover_five_give_exactly_five(
    make_program: ProgramMaker,
    http: httpx.Client,  # noqa: F811 (the fixture imported above)
    engine: Engine,
) -> None:
    api = program(make_program)
    anna = api.member()  # 50 points for joining
    give_points(api, anna, 50)

    responses = at_once(
        20,
        lambda index: http.post(
            f"/api/v1/members/{anna}/donations",
            json={"cause": "baltic-sea", "points": 20},
            headers={**auth(api), "Idempotency-Key": f"give-{index}"},
        ),
    )

    assert Counter(response.status_code for response in responses) == {201: 5, 422: 15}, [r.text for r in responses]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 422} == {"insufficient_points"}
    assert api.available(anna) == 0
    assert cause_totals(api)["points"] == 100
    with Session(engine) as session:
        assert verify(session, api.program_id).is_balanced


def test_twenty_members_giving_at_once_are_matched_up_to_the_budget_and_no_further(
    make_program: ProgramMaker,
    http: httpx.Client,  # noqa: F811 (the fixture imported above)
) -> None:
    api = program(make_program)
    givers = [api.member() for _ in range(20)]
    for giver in givers:
        give_points(api, giver, 50)  # 100 points each: 1.00 each, 20.00 in all, matched at most 5.00

    responses = at_once(
        20,
        lambda index: http.post(
            f"/api/v1/members/{givers[index]}/donations",
            json={"cause": "baltic-sea", "points": 100},
            headers={**auth(api), "Idempotency-Key": "give"},
        ),
    )

    assert Counter(response.status_code for response in responses) == {201: 20}
    assert sorted(response.json()["matched"] for response in responses) == ["0.00"] * 15 + ["1.00"] * 5
    assert cause_totals(api) == {
        "points": 2000,
        "value": "20.00",
        "matched": "5.00",
        "given": "25.00",
        "donors": 20,
        "currency": "EUR",
    }
