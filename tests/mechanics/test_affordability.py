"""reward.affordable: an event whose points take the member's available balance up to a reward's cost announces that
reward, once, among those the member could redeem now; points still pending in a return window do not count."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.outbox.models import OutboxEvent
from tests.factories import ApiClient, ProgramMaker, line


def affordable(api: ApiClient, engine: Engine) -> list[tuple[str, int, int]]:
    with Session(engine) as session:
        rows = session.execute(
            select(OutboxEvent.payload)
            .where(OutboxEvent.program_id == api.program_id, OutboxEvent.type == "reward.affordable")
            .order_by(OutboxEvent.id)
        ).scalars()
        return [(row["reward"], row["cost"], row["balance"]) for row in rows]


def beans(euros: str) -> list[dict[str, Any]]:
    return [line("BEANS", "coffee-beans", euros)]  # 2 points per €


def test_a_purchase_that_reaches_a_rewards_cost_announces_it_once(api: ApiClient, engine: Engine) -> None:
    member = api.member()  # 50 welcome points: below every reward
    assert affordable(api, engine) == []
    api.purchase(member, beans("50.00"))  # 150: the free drink
    assert affordable(api, engine) == [("free-drink", 150, 150)]
    api.purchase(member, beans("10.00"))  # 170: nothing new
    # 570, and 520 purchase points make them silver: 5 € off, and free shipping (for silver members) too
    api.purchase(member, beans("200.00"))
    assert affordable(api, engine) == [
        ("free-drink", 150, 150),
        ("five-euro-off", 500, 570),
        ("free-shipping", 200, 570),
    ]


def test_free_shipping_waits_for_silver(api: ApiClient, engine: Engine) -> None:
    member = api.member()
    api.purchase(member, beans("100.00"))  # 250 points, bronze: the drink, not free shipping
    assert [reward for reward, _, _ in affordable(api, engine)] == ["free-drink"]


def test_pending_points_do_not_make_a_reward_affordable(make_program: ProgramMaker, engine: Engine) -> None:
    api = make_program({"points": {"pending_days": 14}})
    member = api.member()
    api.purchase(member, beans("100.00"))
    assert affordable(api, engine) == []


def test_a_member_who_spent_below_a_cost_is_told_again_when_they_reach_it(api: ApiClient, engine: Engine) -> None:
    member = api.member()
    api.purchase(member, beans("50.00"))  # 150
    redeemed = api.post(
        f"/api/v1/members/{member}/redemptions", {"reward": "free-drink"}, headers={"Idempotency-Key": "a"}
    )
    assert redeemed.status_code == 201
    api.purchase(member, beans("75.00"))  # 0 + 150
    assert [reward for reward, _, _ in affordable(api, engine)] == ["free-drink", "free-drink"]
