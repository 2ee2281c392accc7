"""Exchanges that really overlap, against a real server: twenty transfers of one member whose points cover five move
exactly five; members moving points both ways between the same two accounts at once never deadlock into an error and
leave both ledgers balanced and every point accounted for."""

from __future__ import annotations

from collections import Counter

import httpx
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from punchcard.ledger.verify import verify
from tests.coalition.test_coalition_api import both, found, give, settlement
from tests.factories import ProgramMaker
from tests.invariants.test_races import at_once, auth, http, server  # noqa: F401 (fixtures, found by name)


def test_twenty_transfers_at_once_of_points_that_cover_five_move_exactly_five(
    make_program: ProgramMaker,
    http: httpx.Client,  # noqa: F811 (the fixture imported above)
    engine: Engine,
) -> None:
    brands = found(make_program)
    anna_roaster, anna_tea = both(brands, engine)
    give(brands.roaster, anna_roaster, 50)  # 100 roaster points: five moves of 20

    responses = at_once(
        20,
        lambda index: http.post(
            f"/api/v1/members/{anna_roaster}/coalition-transfers",
            json={"to": brands.tea.slug, "points": 20},
            headers={**auth(brands.roaster), "Idempotency-Key": f"move-{index}"},
        ),
    )

    assert Counter(response.status_code for response in responses) == {201: 5, 422: 15}, [r.text for r in responses]
    assert {r.json()["error"]["code"] for r in responses if r.status_code == 422} == {"insufficient_points"}
    assert brands.roaster.available(anna_roaster) == 0
    assert brands.tea.available(anna_tea) == 50 + 5 * 40
    owed = settlement(brands.roaster, brands.code).json()["owed"]
    assert owed == [{"debtor": brands.roaster.slug, "creditor": brands.tea.slug, "amount": "1.00"}]
    with Session(engine) as session:
        assert verify(session, brands.roaster.program_id).is_balanced
        assert verify(session, brands.tea.program_id).is_balanced


def test_moves_both_ways_at_once_between_the_same_accounts_all_succeed(
    make_program: ProgramMaker,
    http: httpx.Client,  # noqa: F811 (the fixture imported above)
    engine: Engine,
) -> None:
    brands = found(make_program)
    anna_roaster, anna_tea = both(brands, engine)
    give(brands.roaster, anna_roaster, 950)  # 1000 roaster points
    give(brands.tea, anna_tea, 950)  # 1000 tea points

    def move(index: int) -> httpx.Response:
        sender, member, to = (
            (brands.roaster, anna_roaster, brands.tea.slug)
            if index % 2
            else (brands.tea, anna_tea, brands.roaster.slug)
        )
        return http.post(
            f"/api/v1/members/{member}/coalition-transfers",
            json={"to": to, "points": 20},
            headers={**auth(sender), "Idempotency-Key": f"both-{index}"},
        )

    responses = at_once(20, move)

    assert Counter(response.status_code for response in responses) == {201: 20}, [r.text for r in responses]
    # ten moves of 20 roaster points out (40 tea points in) and ten of 20 tea points out (10 roaster points in)
    assert brands.roaster.available(anna_roaster) == 1000 - 200 + 100
    assert brands.tea.available(anna_tea) == 1000 + 400 - 200
    owed = settlement(brands.roaster, brands.code).json()["owed"]
    assert owed == [{"debtor": brands.roaster.slug, "creditor": brands.tea.slug, "amount": "1.00"}]
    with Session(engine) as session:
        assert verify(session, brands.roaster.program_id).is_balanced
        assert verify(session, brands.tea.program_id).is_balanced
