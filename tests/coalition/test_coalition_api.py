"""A coalition of two brands through the API: a roaster (1 point = 1 unit, the owner, 0.01 EUR a unit) and a tea shop
(2 points = 1 unit). A member linked at both moves points between them and pays a tea reward with roaster points;
each movement is balanced in both ledgers, happens once per Idempotency-Key, and the owner reads what the brands owe
each other. Programs outside the coalition see nothing of it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.coalition import service as coalitions
from punchcard.kit.db import unit_of_work
from punchcard.ledger.verify import verify
from punchcard.member import service as members
from punchcard.outbox.models import OutboxEvent
from punchcard.program import service as programs
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, error_of, ledger_items

TEA_REWARD = {
    "code": "free-pot",
    "name": {"en": "A free pot of tea"},
    "cost": 150,
    "benefit": {"free_product": {"sku": "POT-ANY", "name": {"en": "Any pot of tea"}}},
}


@dataclass(frozen=True)
class Brands:
    code: str
    roaster: ApiClient
    tea: ApiClient


def found(make_program: ProgramMaker, *, tea_rate: int = 2, admitted: bool = True) -> Brands:
    code = f"c-{uuid.uuid4().hex[:8]}"
    tea = make_program({"coalition": {"code": code, "points_per_unit": tea_rate}, "rewards": [TEA_REWARD]})
    partners = [tea.slug] if admitted else []
    roaster = make_program(
        {"coalition": {"code": code, "points_per_unit": 1, "owner": {"unit_value": "0.01", "partners": partners}}}
    )
    return Brands(code, roaster, tea)


@pytest.fixture
def brands(make_program: ProgramMaker) -> Brands:
    return found(make_program)


def link(engine: Engine, api: ApiClient, external_id: str) -> list[str]:
    """What the portal does when the signed-in member asks to link (their sign-in proved the e-mail)."""
    with unit_of_work(engine) as session:
        version = programs.current(session, api.program_id)
        coalition = coalitions.of_program(session, version)
        assert coalition is not None
        return coalitions.link(session, coalition, members.get(session, api.program_id, external_id), NOW)


def both(brands: Brands, engine: Engine, email: str | None = None) -> tuple[str, str]:
    """A person with an account at each brand under one e-mail address, linked; 50 points each for joining."""
    email = email or f"{uuid.uuid4().hex[:8]}@example.com"
    at_roaster, at_tea = brands.roaster.member(email=email), brands.tea.member(email=email)
    assert link(engine, brands.roaster, at_roaster) == sorted(
        [brands.roaster.slug, brands.tea.slug], key=_owner_first(brands)
    )
    return at_roaster, at_tea


def _owner_first(brands: Brands) -> Any:
    return lambda slug: slug != brands.roaster.slug


def give(api: ApiClient, member: str, points: int) -> None:
    response = api.post(f"/api/v1/members/{member}/adjustments", {"points": points, "reason": "goodwill"})
    assert response.status_code == 201, response.text


def transfer(api: ApiClient, member: str, to: str, points: int, key: str) -> httpx.Response:
    return api.post(
        f"/api/v1/members/{member}/coalition-transfers", {"to": to, "points": points}, headers={"Idempotency-Key": key}
    )


def settlement(api: ApiClient, code: str, **params: str) -> httpx.Response:
    return api.get(f"/api/v1/coalitions/{code}/settlement", params=params)


def balanced(engine: Engine, *apis: ApiClient) -> bool:
    with Session(engine) as session:
        return all(verify(session, api.program_id).is_balanced for api in apis)


def test_points_moved_to_the_partner_arrive_at_its_rate_and_the_sender_owes_their_worth(
    brands: Brands, engine: Engine
) -> None:
    anna_roaster, anna_tea = both(brands, engine)
    give(brands.roaster, anna_roaster, 250)  # 300 roaster points

    answer = transfer(brands.roaster, anna_roaster, brands.tea.slug, 101, "move-1")

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert {key: body[key] for key in ("from", "to", "units", "value", "currency")} == {
        "from": {"brand": brands.roaster.slug, "points": 101},
        "to": {"brand": brands.tea.slug, "points": 202},
        "units": 101,
        "value": "1.01",
        "currency": "EUR",
    }
    assert brands.roaster.available(anna_roaster) == 199
    assert brands.tea.available(anna_tea) == 50 + 202
    assert ledger_items(brands.tea, anna_tea)[0]["kind"] == "exchange"
    assert balanced(engine, brands.roaster, brands.tea)


def test_only_whole_units_move_so_no_point_is_made_or_lost_by_rounding(brands: Brands, engine: Engine) -> None:
    anna_roaster, anna_tea = both(brands, engine)
    give(brands.tea, anna_tea, 50)  # 100 tea points: 50 units

    answer = transfer(brands.tea, anna_tea, brands.roaster.slug, 41, "move-odd")  # 20 units; one tea point stays

    assert answer.status_code == 201, answer.text
    assert answer.json()["from"] == {"brand": brands.tea.slug, "points": 40}
    assert answer.json()["to"] == {"brand": brands.roaster.slug, "points": 20}
    assert brands.tea.available(anna_tea) == 60
    assert brands.roaster.available(anna_roaster) == 70
    error_of(transfer(brands.tea, anna_tea, brands.roaster.slug, 1, "move-one"), 422, "too_few_points_to_exchange")
    assert brands.tea.available(anna_tea) == 60


def test_the_same_key_moves_once_and_another_body_under_it_is_refused(brands: Brands, engine: Engine) -> None:
    anna_roaster, anna_tea = both(brands, engine)

    first = transfer(brands.roaster, anna_roaster, brands.tea.slug, 20, "once")
    again = transfer(brands.roaster, anna_roaster, brands.tea.slug, 20, "once")

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert brands.tea.available(anna_tea) == 90
    error_of(transfer(brands.roaster, anna_roaster, brands.tea.slug, 30, "once"), 409, "idempotency_conflict")
    error_of(
        brands.roaster.post(
            f"/api/v1/members/{anna_roaster}/coalition-transfers", {"to": brands.tea.slug, "points": 20}
        ),
        422,
        "validation_error",
    )
    assert brands.roaster.available(anna_roaster) == 30


def test_more_than_the_member_has_moves_nothing(brands: Brands, engine: Engine) -> None:
    anna_roaster, anna_tea = both(brands, engine)

    error_of(transfer(brands.roaster, anna_roaster, brands.tea.slug, 51, "too-much"), 422, "insufficient_points")

    assert (brands.roaster.available(anna_roaster), brands.tea.available(anna_tea)) == (50, 50)
    assert settlement(brands.roaster, brands.code).json()["flows"] == []


def test_a_partner_reward_paid_with_roaster_points_moves_the_units_that_cover_it(
    brands: Brands, engine: Engine
) -> None:
    anna_roaster, anna_tea = both(brands, engine)
    give(brands.roaster, anna_roaster, 50)  # 100 roaster points; the pot costs 150 tea points = 75 units

    answer = brands.tea.post(
        f"/api/v1/members/{anna_tea}/coalition-redemptions",
        {"reward": "free-pot", "pay_with": brands.roaster.slug},
        headers={"Idempotency-Key": "pot-1"},
    )

    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["reward"] == "free-pot"
    assert body["coupon"]["code"]
    assert body["paid_with"]["from"] == {"brand": brands.roaster.slug, "points": 75}
    assert body["paid_with"]["to"] == {"brand": brands.tea.slug, "points": 150}
    assert brands.roaster.available(anna_roaster) == 25
    assert brands.tea.available(anna_tea) == 50  # the joining points are untouched
    replay = brands.tea.post(
        f"/api/v1/members/{anna_tea}/coalition-redemptions",
        {"reward": "free-pot", "pay_with": brands.roaster.slug},
        headers={"Idempotency-Key": "pot-1"},
    )
    assert (replay.status_code, replay.json()) == (200, body)
    assert brands.roaster.available(anna_roaster) == 25
    assert balanced(engine, brands.roaster, brands.tea)


def test_an_odd_cost_moves_a_whole_unit_more_and_the_extra_point_stays_with_the_member(
    make_program: ProgramMaker, engine: Engine
) -> None:
    brands = found(make_program, tea_rate=4)  # the pot's 150 points are 37.5 units: 38 move, 152 points arrive
    anna_roaster, anna_tea = both(brands, engine)

    answer = brands.tea.post(
        f"/api/v1/members/{anna_tea}/coalition-redemptions",
        {"reward": "free-pot", "pay_with": brands.roaster.slug},
        headers={"Idempotency-Key": "pot"},
    )

    assert answer.status_code == 201, answer.text
    assert answer.json()["paid_with"]["units"] == 38
    assert brands.roaster.available(anna_roaster) == 12
    assert brands.tea.available(anna_tea) == 52


def test_a_reward_the_member_may_not_have_moves_no_points(brands: Brands, engine: Engine) -> None:
    anna_roaster, anna_tea = both(brands, engine)
    give(brands.roaster, anna_roaster, 950)

    refused = brands.tea.post(
        f"/api/v1/members/{anna_tea}/coalition-redemptions",
        {"reward": "no-such-reward", "pay_with": brands.roaster.slug},
        headers={"Idempotency-Key": "nothing"},
    )

    error_of(refused, 404, "reward_not_found")
    assert brands.roaster.available(anna_roaster) == 1000
    assert settlement(brands.roaster, brands.code).json()["flows"] == []


def test_the_owner_reads_what_each_brand_owes_the_other_netted_per_pair(brands: Brands, engine: Engine) -> None:
    anna_roaster, anna_tea = both(brands, engine)
    give(brands.roaster, anna_roaster, 950)  # 1000
    assert transfer(brands.roaster, anna_roaster, brands.tea.slug, 300, "a").status_code == 201  # roaster owes 3.00
    assert transfer(brands.tea, anna_tea, brands.roaster.slug, 100, "b").status_code == 201  # tea owes 0.50

    answer = settlement(brands.roaster, brands.code, **{"from": "2026-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z"})

    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["unit_value"] == "0.01"
    assert body["owner"] == brands.roaster.slug
    assert {(flow["from"], flow["to"]): (flow["units"], flow["amount"]) for flow in body["flows"]} == {
        (brands.roaster.slug, brands.tea.slug): (300, "3.00"),
        (brands.tea.slug, brands.roaster.slug): (50, "0.50"),
    }
    assert body["owed"] == [{"debtor": brands.roaster.slug, "creditor": brands.tea.slug, "amount": "2.50"}]
    later = settlement(brands.roaster, brands.code, **{"from": "2027-01-01T00:00:00Z"}).json()
    assert later["flows"] == []
    assert later["owed"] == []


def test_only_the_owner_reads_the_settlement_and_to_outsiders_the_coalition_does_not_exist(
    brands: Brands, make_program: ProgramMaker
) -> None:
    outsider = make_program()

    error_of(settlement(brands.tea, brands.code), 403, "not_coalition_owner")
    error_of(settlement(outsider, brands.code), 404, "coalition_not_found")
    error_of(settlement(brands.roaster, "no-such-coalition"), 404, "coalition_not_found")
    integration = httpx.Headers({"Authorization": f"Bearer {brands.roaster.integration_key}"})
    error_of(
        brands.roaster.client.get(f"/api/v1/coalitions/{brands.code}/settlement", headers=integration),
        403,
        "forbidden",
    )


def test_a_program_outside_the_coalition_cannot_reach_its_members(
    brands: Brands, make_program: ProgramMaker, engine: Engine
) -> None:
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    anna_roaster, _ = both(brands, engine, email)
    outsider = make_program()
    anna_outside = outsider.member(email=email)

    error_of(transfer(outsider, anna_outside, brands.roaster.slug, 10, "x"), 404, "not_in_coalition")
    error_of(outsider.get(f"/api/v1/members/{anna_outside}/coalition"), 404, "not_in_coalition")
    error_of(transfer(brands.roaster, anna_roaster, outsider.slug, 10, "y"), 404, "not_in_coalition")
    accounts = brands.roaster.get(f"/api/v1/members/{anna_roaster}/coalition").json()["accounts"]
    assert {account["brand"] for account in accounts} == {brands.roaster.slug, brands.tea.slug}


def test_a_partner_the_owner_has_not_admitted_is_not_in_the_coalition(
    make_program: ProgramMaker, engine: Engine
) -> None:
    brands = found(make_program, admitted=False)
    anna_tea = brands.tea.member(email="anna@example.com")

    error_of(brands.tea.get(f"/api/v1/members/{anna_tea}/coalition"), 404, "not_in_coalition")
    brands.roaster.member(email="anna@example.com")
    body = brands.roaster.get(f"/api/v1/members/{brands.roaster.member()}/coalition").json()
    assert [brand["brand"] for brand in body["brands"]] == [brands.roaster.slug]


def test_an_unlinked_member_moves_nothing_and_sees_their_brands(brands: Brands, engine: Engine) -> None:
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    anna_roaster, anna_tea = brands.roaster.member(email=email), brands.tea.member(email=email)

    error_of(transfer(brands.roaster, anna_roaster, brands.tea.slug, 10, "x"), 422, "coalition_not_linked")
    view = brands.roaster.get(f"/api/v1/members/{anna_roaster}/coalition").json()
    assert view["linked"] is False
    assert view["accounts"] == []
    assert [brand["points_per_unit"] for brand in view["brands"]] == [1, 2]
    assert brands.tea.available(anna_tea) == 50


def test_linking_joins_the_accounts_with_the_same_address_and_unlinking_parts_them(
    brands: Brands, engine: Engine
) -> None:
    anna_roaster, anna_tea = both(brands, engine)
    view = brands.tea.get(f"/api/v1/members/{anna_tea}/coalition").json()
    assert view["linked"] is True
    assert [account["brand"] for account in view["accounts"]] == [brands.tea.slug, brands.roaster.slug]
    assert view["units"] == 25 + 50

    with unit_of_work(engine) as session:
        coalition = coalitions.coalition(session, brands.code)
        assert coalitions.unlink(session, coalition, members.get(session, brands.tea.program_id, anna_tea), NOW)

    assert brands.roaster.get(f"/api/v1/members/{anna_roaster}/coalition").json()["linked"] is False


def test_exchanges_are_published_as_events_in_both_programs(brands: Brands, engine: Engine) -> None:
    anna_roaster, _anna_tea = both(brands, engine)

    assert transfer(brands.roaster, anna_roaster, brands.tea.slug, 10, "evt").status_code == 201

    assert published(engine, brands.roaster, "coalition.points_sent") == [
        {**FACTS, "to_brand": brands.tea.slug, "points": 10}
    ]
    assert published(engine, brands.tea, "coalition.points_received") == [
        {**FACTS, "from_brand": brands.roaster.slug, "points": 20}
    ]
    assert published(engine, brands.roaster, "coalition.linked")[0]["brands"] == [brands.roaster.slug, brands.tea.slug]


FACTS = {"units": 10, "value_minor": 10, "currency": "EUR", "reason": "transfer"}


def published(engine: Engine, api: ApiClient, kind: str) -> list[dict[str, Any]]:
    """The payloads of the program's outbox events of ``kind``, without their coalition and movement ids."""
    with Session(engine) as session:
        payloads = session.execute(
            select(OutboxEvent.payload).where(OutboxEvent.program_id == api.program_id, OutboxEvent.type == kind)
        ).scalars()
        return [{k: v for k, v in payload.items() if k not in ("coalition", "movement_id")} for payload in payloads]
