"""Wallet requests that really overlap, against a real server: twenty redemptions of one gift card pay exactly what it
holds, one redemption sent twenty times moves the money once and answers alike, twenty spends of a member's store
credit pay exactly what it holds, and twenty conversions of points to credit spend exactly the points there are;
every time, the ledger adds up and no cent is doubled or lost."""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.ledger import money
from punchcard.ledger.verify import verify
from punchcard.member.models import Member
from punchcard.wallet.models import WalletOperation
from tests.factories import ApiClient, ProgramMaker
from tests.invariants.test_races import at_once, auth, codes, http, server, statuses  # noqa: F401 (fixtures, found by name)

CONVERSION = {"store_credit": {"conversion": {"points": 100, "amount": "1.00", "minimum_points": 0}}}
"""A program where 100 points buy 1.00 EUR of store credit."""


def issue_card(api: ApiClient, amount: str) -> dict[str, Any]:
    response = api.post(
        "/api/v1/gift-cards", {"amount": amount, "currency": "EUR"}, headers={"Idempotency-Key": api.next_id("issue")}
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def card_balance(api: ApiClient, code: str) -> str:
    response = api.get(f"/api/v1/gift-cards/{code}")
    assert response.status_code == 200, response.text
    return str(response.json()["balance"])


def card_totals(engine: Engine, card_id: int) -> dict[str, int]:
    with Session(engine) as session:
        return money.card_totals(session, card_id)


def store_credit(api: ApiClient, member: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/members/{member}/store-credit")
    assert response.status_code == 200, response.text
    return dict(response.json())


def member_id(engine: Engine, api: ApiClient, external_id: str) -> int:
    with Session(engine) as session:
        return int(
            session.execute(
                select(Member.id).where(Member.program_id == api.program_id, Member.external_id == external_id)
            ).scalar_one()
        )


def operations(engine: Engine, api: ApiClient, action: str) -> int:
    with Session(engine) as session:
        found = session.execute(
            select(WalletOperation.id).where(
                WalletOperation.program_id == api.program_id, WalletOperation.action == action
            )
        ).all()
    return len(found)


def assert_ledger_adds_up(engine: Engine, api: ApiClient) -> None:
    with Session(engine) as session:
        report = verify(session, api.program_id)
    assert report.is_balanced, report.problems


def test_twenty_redemptions_at_once_of_a_card_that_covers_three_pay_exactly_three(
    api: ApiClient,
    http: httpx.Client,  # noqa: F811 (the fixture imported above)
    engine: Engine,
) -> None:
    # Given a 30.00 EUR gift card
    card = issue_card(api, "30.00")
    code = card["code"]

    # When twenty checkouts each redeem 10.00 of it at once, under their own keys and orders
    responses = at_once(
        20,
        lambda i: http.post(
            f"/api/v1/gift-cards/{code}/redemptions",
            json={"amount": "10.00", "order_id": f"O-card-{i}"},
            headers={**auth(api), "Idempotency-Key": f"card-race-{i}"},
        ),
    )

    # Then exactly three are paid and seventeen are told the card does not cover them
    assert statuses(responses) == {201: 3, 409: 17}, [r.text for r in responses if r.status_code not in (201, 409)]
    assert codes(responses, 409) == {"gift_card_insufficient_balance"}
    paid = [response.json() for response in responses if response.status_code == 201]
    assert sorted(body["gift_card"]["balance"] for body in paid) == ["0.00", "10.00", "20.00"]
    assert all(body["amount"] == "10.00" for body in paid)
    # ...the card is empty, its legs show three spends of 10.00, and the ledger adds up
    assert card_balance(api, code) == "0.00"
    assert card_totals(engine, card["id"]) == {"issue": 3000, "spend": -3000}
    assert operations(engine, api, "gift_card.redeem") == 3
    assert_ledger_adds_up(engine, api)


def test_one_redemption_sent_twenty_times_at_once_pays_once_and_answers_all_alike(
    api: ApiClient,
    http: httpx.Client,  # noqa: F811 (the fixture imported above)
    engine: Engine,
) -> None:
    # Given a 30.00 EUR gift card
    card = issue_card(api, "30.00")
    code = card["code"]

    # When a checkout sends one redemption of 10.00 twenty times at once, under one key with one body
    responses = at_once(
        20,
        lambda _: http.post(
            f"/api/v1/gift-cards/{code}/redemptions",
            json={"amount": "10.00", "order_id": "O-twice"},
            headers={**auth(api), "Idempotency-Key": "card-retried"},
        ),
    )

    # Then one request paid and nineteen replayed its very answer
    assert statuses(responses) == {201: 1, 200: 19}, [r.text for r in responses if r.status_code not in (200, 201)]
    bodies = [response.json() for response in responses]
    assert all(body == bodies[0] for body in bodies), bodies
    assert bodies[0]["amount"] == "10.00"
    assert bodies[0]["gift_card"]["balance"] == "20.00"
    # ...and the card paid 10.00 once
    assert card_balance(api, code) == "20.00"
    assert card_totals(engine, card["id"]) == {"issue": 3000, "spend": -1000}
    assert operations(engine, api, "gift_card.redeem") == 1
    assert_ledger_adds_up(engine, api)


def test_twenty_spends_at_once_of_store_credit_that_covers_five_pay_exactly_five(
    api: ApiClient,
    http: httpx.Client,  # noqa: F811 (the fixture imported above)
    engine: Engine,
) -> None:
    # Given a member with 5.00 EUR of store credit
    member = api.member()
    granted = api.post(
        f"/api/v1/members/{member}/store-credit/grants",
        {"amount": "5.00", "reason": "race"},
        headers={"Idempotency-Key": api.next_id("grant")},
    )
    assert granted.status_code == 201, granted.text
    assert store_credit(api, member)["balance"] == "5.00"

    # When twenty checkouts each spend 1.00 of it at once, under their own keys and orders
    responses = at_once(
        20,
        lambda i: http.post(
            f"/api/v1/members/{member}/store-credit/redemptions",
            json={"amount": "1.00", "order_id": f"O-credit-{i}"},
            headers={**auth(api), "Idempotency-Key": f"credit-race-{i}"},
        ),
    )

    # Then exactly five are paid and fifteen are told the credit does not cover them
    assert statuses(responses) == {201: 5, 409: 15}, [r.text for r in responses if r.status_code not in (201, 409)]
    assert codes(responses, 409) == {"store_credit_insufficient"}
    paid = [response.json() for response in responses if response.status_code == 201]
    assert sorted(body["store_credit"]["balance"] for body in paid) == ["0.00", "1.00", "2.00", "3.00", "4.00"]
    # ...the credit is spent to the cent, its history shows five spends, and the ledger adds up
    credit = store_credit(api, member)
    assert (credit["balance"], credit["pending"], credit["currency"]) == ("0.00", "0.00", "EUR")
    assert sorted(line["amount"] for line in credit["history"] if line["kind"] == "spend") == ["-1.00"] * 5
    with Session(engine) as session:
        assert money.credit(session, member_id(engine, api, member)).available == 0
    assert operations(engine, api, "store_credit.spend") == 5
    assert_ledger_adds_up(engine, api)


def test_twenty_conversions_at_once_of_points_that_cover_four_convert_exactly_four(
    make_program: ProgramMaker,
    http: httpx.Client,  # noqa: F811 (the fixture imported above)
    engine: Engine,
) -> None:
    # Given a program where 100 points buy 1.00 EUR of credit, and a member with 50 (welcome) + 350 = 400 points
    api = make_program(CONVERSION)
    member = api.member()
    adjusted = api.post(f"/api/v1/members/{member}/adjustments", {"points": 350, "reason": "race"})
    assert adjusted.status_code == 201, adjusted.text
    assert api.available(member) == 400

    # When twenty requests each convert 100 points at once, under their own keys
    responses = at_once(
        20,
        lambda i: http.post(
            f"/api/v1/members/{member}/conversions",
            json={"points": 100},
            headers={**auth(api), "Idempotency-Key": f"convert-race-{i}"},
        ),
    )

    # Then exactly four convert and sixteen are told the points are not there
    assert statuses(responses) == {201: 4, 422: 16}, [r.text for r in responses if r.status_code not in (201, 422)]
    assert codes(responses, 422) == {"insufficient_points"}
    converted = [response.json() for response in responses if response.status_code == 201]
    assert [(body["points"], body["amount"]) for body in converted] == [(100, "1.00")] * 4
    assert sorted(body["store_credit"]["balance"] for body in converted) == ["1.00", "2.00", "3.00", "4.00"]
    # ...no point is left, the member holds exactly 4.00 of credit, and the ledger adds up
    assert api.available(member) == 0
    credit = store_credit(api, member)
    assert (credit["balance"], credit["pending"]) == ("4.00", "0.00")
    assert sorted(line["amount"] for line in credit["history"] if line["kind"] == "convert") == ["1.00"] * 4
    assert operations(engine, api, "store_credit.convert") == 4
    assert_ledger_adds_up(engine, api)
