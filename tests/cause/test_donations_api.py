"""Points for a cause through the API: a member gives points once per Idempotency-Key, the cause gets their value and
the shop's matching within its monthly budget, the totals add up, and standing gifts give as the member earns."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from punchcard.ledger.verify import verify
from tests.factories import ApiClient, ProgramMaker, deliver_outbox, error_of, ledger_items, line
from tests.mailing.test_member_mails import mails_to, member, send, subjects, text_of
from tests.smtp import Mailbox

BALTIC_SEA = {
    "code": "baltic-sea",
    "name": {"en": "Baltic Sea Foundation", "et": "Läänemere Sihtasutus"},
    "description": {"en": "Cleaner water for the sea we live by."},
    "point_value": "0.01",
    "match": {"ratio": 1, "budget": "5.00", "per": "month"},
    "goal": "1000.00",
}


@pytest.fixture
def api(make_program: ProgramMaker) -> ApiClient:
    return make_program({"causes": [BALTIC_SEA, {**BALTIC_SEA, "code": "closed", "active": {"until": "2026-01-31"}}]})


def donate(api: ApiClient, member: str, points: int, key: str, cause: str = "baltic-sea") -> httpx.Response:
    body = {"cause": cause, "points": points}
    return api.post(f"/api/v1/members/{member}/donations", body, headers={"Idempotency-Key": key})


def give_points(api: ApiClient, member: str, points: int) -> None:
    assert (
        api.post(f"/api/v1/members/{member}/adjustments", {"points": points, "reason": "goodwill"}).status_code == 201
    )


def cause_totals(api: ApiClient, code: str = "baltic-sea", **params: str) -> dict[str, Any]:
    causes = api.get("/api/v1/causes", params=params).json()["causes"]
    return dict(next(cause for cause in causes if cause["code"] == code)["totals"])


def test_a_donation_spends_the_points_values_them_and_the_shop_matches_it(api: ApiClient, engine: Engine) -> None:
    anna = api.member()  # 50 points for joining
    give_points(api, anna, 250)

    answer = donate(api, anna, 200, "give-1")

    assert answer.status_code == 201, answer.text
    assert {key: answer.json()[key] for key in ("points", "value", "matched", "balance")} == {
        "points": 200,
        "value": "2.00",
        "matched": "2.00",
        "balance": 100,
    }
    assert api.available(anna) == 100
    assert ledger_items(api, anna)[0]["kind"] == "donate"
    assert cause_totals(api) == {
        "points": 200,
        "value": "2.00",
        "matched": "2.00",
        "given": "4.00",
        "donors": 1,
        "currency": "EUR",
    }
    with Session(engine) as session:
        assert verify(session, api.program_id).is_balanced


def test_a_donation_sent_again_gives_once(api: ApiClient) -> None:
    anna = api.member()

    first = donate(api, anna, 30, "give-1")
    again = donate(api, anna, 30, "give-1")
    other = donate(api, anna, 10, "give-1")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    error_of(other, 409, "idempotency_conflict")
    assert api.available(anna) == 20


def test_matching_stops_at_the_months_budget(api: ApiClient) -> None:
    anna, ben = api.member(), api.member()
    give_points(api, anna, 400)
    give_points(api, ben, 400)

    donate(api, anna, 400, "a")  # 4.00, matched 4.00
    answer = donate(api, ben, 400, "b")  # 4.00, matched only the 1.00 left

    assert answer.json()["matched"] == "1.00"
    assert cause_totals(api)["matched"] == "5.00"
    assert cause_totals(api)["donors"] == 2


@pytest.mark.parametrize(
    ("cause", "points", "status", "code"),
    [
        ("no-such-cause", 10, 404, "cause_not_found"),
        ("closed", 10, 422, "cause_closed"),
        ("baltic-sea", 51, 422, "insufficient_points"),
    ],
)
def test_a_donation_that_cannot_be_made_changes_nothing(
    api: ApiClient, cause: str, points: int, status: int, code: str
) -> None:
    anna = api.member()

    error_of(donate(api, anna, points, "k", cause), status, code)

    assert api.available(anna) == 50
    assert cause_totals(api)["points"] == 0


def test_a_refund_never_brings_donated_points_back_it_makes_debt_as_the_return_policy_says(api: ApiClient) -> None:
    anna = api.member()
    api.purchase(anna, [line("BEANS", "coffee-beans", "50.00")], order_id="O-1")  # 100 points (2 per €)
    donate(api, anna, 150, "give-all")

    api.refund(anna, "O-1", amount="50.00")

    assert api.points(anna)["available"] == -100  # the return policy of the demo is unlimited: debt
    assert cause_totals(api)["points"] == 150


def test_a_standing_gift_gives_a_share_of_every_earning(api: ApiClient) -> None:
    anna = api.member()
    set_gift = api.request(
        "PUT", f"/api/v1/members/{anna}/standing-gift", {"cause": "baltic-sea", "kind": "percent", "value": 10}
    )
    assert set_gift.status_code == 200, set_gift.text

    api.purchase(anna, [line("BEANS", "coffee-beans", "50.00")], order_id="O-1")  # 100 points
    deliver_outbox(api.client)  # the gift follows the earning, just after it
    deliver_outbox(api.client)  # a delivery made again gives nothing more

    assert api.available(anna) == 50 + 100 - 10
    assert api.get(f"/api/v1/members/{anna}/donations").json() == {
        "given": [{"cause": "baltic-sea", "points": 10, "value": "0.10"}],
        "standing_gift": {"cause": "baltic-sea", "kind": "percent", "value": 10},
    }


def test_a_round_down_gift_keeps_the_balance_at_a_multiple(api: ApiClient) -> None:
    anna = api.member()
    api.request(
        "PUT", f"/api/v1/members/{anna}/standing-gift", {"cause": "baltic-sea", "kind": "round_down", "value": 100}
    )

    api.purchase(anna, [line("BEANS", "coffee-beans", "41.50")], order_id="O-1")  # 83 points: 133 available
    deliver_outbox(api.client)

    assert api.available(anna) == 100
    assert api.request("DELETE", f"/api/v1/members/{anna}/standing-gift").status_code == 204
    api.purchase(anna, [line("BEANS", "coffee-beans", "10.00")], order_id="O-2")
    deliver_outbox(api.client)
    assert api.available(anna) == 120


def test_the_settlement_lists_every_donation_for_the_accountant(api: ApiClient) -> None:
    anna = api.member()
    donate(api, anna, 40, "a")

    as_json = api.get("/api/v1/causes/baltic-sea/settlement").json()
    as_csv = api.get("/api/v1/causes/baltic-sea/settlement", params={"format": "csv"})

    assert [(row["points"], row["value"], row["matched"], row["total"]) for row in as_json["lines"]] == [
        (40, "0.40", "0.40", "0.80")
    ]
    assert as_json["totals"]["given"] == "0.80"
    assert as_csv.headers["content-type"].startswith("text/csv")
    assert as_csv.text.splitlines()[0] == "donation_id,donated_at,member_id,points,value,matched,total,currency,source"
    error_of(api.as_integration().get("/api/v1/causes/baltic-sea/settlement"), 403, "forbidden")
    error_of(api.get("/api/v1/causes/nope/settlement"), 404, "cause_not_found")


def test_the_donor_gets_a_receipt_in_their_language_and_a_standing_gift_sends_none(
    make_program: ProgramMaker, client: TestClient, mailbox: Mailbox
) -> None:
    api = make_program({"causes": [BALTIC_SEA]})
    mari, address = member(api, "mari", language="et")
    api.request("PUT", f"/api/v1/members/{mari}/standing-gift", {"cause": "baltic-sea", "kind": "percent", "value": 10})
    api.purchase(mari, [line("BEANS", "coffee-beans", "50.00")], order_id="O-1")  # gives 10 of its 100 points

    donate(api, mari, 40, "give-1")
    send(client)

    assert subjects(mailbox, address) == ["Aitäh, et toetasid: Läänemere Sihtasutus"]
    assert text_of(mails_to(mailbox, address)[0]).startswith(
        "Tere, Mari!\n\nAitäh: andsid 40 punkti heategevuseks „Läänemere Sihtasutus”, väärtusega 0,40\xa0€."
    )


def test_a_standing_share_over_all_of_an_earning_is_refused(api: ApiClient) -> None:
    anna = api.member()

    answer = api.request(
        "PUT", f"/api/v1/members/{anna}/standing-gift", {"cause": "baltic-sea", "kind": "percent", "value": 101}
    )

    error_of(answer, 422, "validation_error")
    assert api.get(f"/api/v1/members/{anna}/donations").json()["standing_gift"] is None
