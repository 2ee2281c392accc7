"""Member-only offers through the API: the offers a member is shown with whether they can take each now and why not,
redemptions that obey them (early access, tiers, segments read from the member's orders as refunds left them), a
bonus rule only for its audience inside its window, and the program file refusing offers that name nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import yaml

from punchcard.program.errors import ProgramFileInvalid
from punchcard.program.service import parse_text
from tests.clock import NOW
from tests.factories import ApiClient, ProgramMaker, at_moment, deep_merge, error_of, line

START = NOW + timedelta(hours=24)
SEASONAL = {
    "code": "seasonal-beans",
    "name": "Seasonal roast",
    "cost": 300,
    "benefit": {"free_product": {"sku": "BEANS-SEASONAL", "name": "Seasonal roast 250 g"}},
}
EARLY_BEANS = {
    "code": "early-beans",
    "name": "Seasonal roast, Gold first",
    "reward": "seasonal-beans",
    "starts_at": START.isoformat(),
    "ends_at": (START + timedelta(days=30)).isoformat(),
    "early_access": {"tiers": ["gold"], "hours": 48},
}
BEAN_LOVERS = {
    "code": "bean-lovers",
    "name": "Ordered coffee beans 4+ times in 90 days",
    "when": {"orders": {"at_least": 4, "within_days": 90, "has_lines": {"categories": ["coffee-beans"]}}},
}
BEANS = line("BEANS", "coffee-beans", "10.00")
YESTERDAY = (NOW - timedelta(days=1)).isoformat()


def program(make_program: ProgramMaker, *offers: dict[str, Any], **more: Any) -> ApiClient:
    rewards = [*make_program.definition["rewards"], SEASONAL]
    return make_program({"rewards": rewards, "segments": [BEAN_LOVERS], "offers": list(offers), **more})


def member_in_tier(api: ApiClient, name: str, euros: str) -> str:
    """A member whose one order of coffee beans (2 points per euro) put them in a tier: 800 → gold, 300 → silver."""
    member = api.member(name)
    api.purchase(member, [line("SACK", "coffee-beans", euros)], occurred_at=YESTERDAY)
    return member


def offers_of(api: ApiClient, member: str, moment: str = NOW.isoformat()) -> dict[str, dict[str, Any]]:
    response = at_moment(api, moment, "GET", f"/api/v1/offers?member={member}")
    assert response.status_code == 200, response.text
    return {item["code"]: item for item in response.json()["items"]}


def redeem(api: ApiClient, member: str, reward: str, key: str, moment: str = NOW.isoformat()) -> Any:
    headers = {"Idempotency-Key": key}
    return at_moment(api, moment, "POST", f"/api/v1/members/{member}/redemptions", {"reward": reward}, headers)


@pytest.fixture
def rewards_only_seasonal(make_program: ProgramMaker) -> ApiClient:
    return program(make_program, EARLY_BEANS)


def test_gold_members_take_the_seasonal_roast_48_hours_before_the_rest(rewards_only_seasonal: ApiClient) -> None:
    api = rewards_only_seasonal
    gold, silver = member_in_tier(api, "gold", "800.00"), member_in_tier(api, "silver", "300.00")
    assert (
        api.get(f"/api/v1/members/{gold}").json()["tier"]["code"],
        api.get(f"/api/v1/members/{silver}").json()["tier"]["code"],
    ) == ("gold", "silver")

    shown = offers_of(api, gold)["early-beans"]
    assert (shown["available"], shown["locked_reason"]) == (True, None)
    assert shown["opens_at"] == (START - timedelta(hours=48)).isoformat()
    waiting = offers_of(api, silver)["early-beans"]
    assert (waiting["available"], waiting["locked_reason"], waiting["opens_at"]) == (
        False,
        "not_started",
        START.isoformat(),
    )

    before = api.available(silver)
    error = error_of(redeem(api, silver, "seasonal-beans", "silver-early"), 422, "offer_locked")
    assert error["details"][0]["locked_reason"] == "not_started"
    assert api.available(silver) == before
    assert redeem(api, gold, "seasonal-beans", "gold-early").status_code == 201

    assert offers_of(api, silver, START.isoformat())["early-beans"]["available"]
    assert redeem(api, silver, "seasonal-beans", "silver-on-time", START.isoformat()).status_code == 201


def test_the_catalogue_says_an_offer_holds_a_reward_back_and_why(rewards_only_seasonal: ApiClient) -> None:
    api = rewards_only_seasonal
    silver = member_in_tier(api, "silver", "300.00")
    items = {item["code"]: item for item in api.get(f"/api/v1/rewards?member={silver}").json()["items"]}
    seasonal = items["seasonal-beans"]
    assert (seasonal["redeemable"], seasonal["obstacle"], seasonal["locked_reason"]) == (
        False,
        "offer_locked",
        "not_started",
    )
    assert items["free-drink"]["locked_reason"] is None


def test_an_open_offer_still_needs_the_points(rewards_only_seasonal: ApiClient) -> None:
    api = rewards_only_seasonal
    poor = api.member("poor")
    shown = offers_of(api, poor, START.isoformat())["early-beans"]
    assert (shown["available"], shown["locked_reason"]) == (False, "insufficient_points")


def test_a_segment_offer_is_shown_and_redeemable_only_while_the_member_is_in_the_segment(
    make_program: ProgramMaker,
) -> None:
    for_bean_lovers = {
        "code": "bean-lovers-roast",
        "name": "For bean lovers",
        "reward": "seasonal-beans",
        "audience": {"segments": ["bean-lovers"]},
    }
    api = program(make_program, for_bean_lovers)
    anna = api.member("anna")
    orders = [f"O-{n}" for n in range(4)]
    for days_ago, order_id in zip((80, 40, 20), orders, strict=False):
        api.purchase(
            anna,
            [BEANS, line("MUG", "merch", "80.00")],
            order_id=order_id,
            occurred_at=(NOW - timedelta(days=days_ago)).isoformat(),
        )
    assert "bean-lovers-roast" not in offers_of(api, anna)
    error = error_of(redeem(api, anna, "seasonal-beans", "three-orders"), 422, "offer_locked")
    assert error["details"][0]["locked_reason"] == "segment_required"

    api.purchase(anna, [BEANS], order_id=orders[3], occurred_at=YESTERDAY)
    assert offers_of(api, anna)["bean-lovers-roast"]["available"]

    api.refund(anna, orders[3], occurred_at=NOW.isoformat(), amount="10.00")  # the fourth order, refunded in full
    assert "bean-lovers-roast" not in offers_of(api, anna)
    api.refund(anna, orders[2], occurred_at=NOW.isoformat(), refund_lines=[{"sku": "MUG", "quantity": 1}])
    assert "bean-lovers-roast" not in offers_of(api, anna)  # a partial refund keeps the order; still three


def test_a_bonus_rule_offer_pays_only_its_audience_inside_its_window(make_program: ProgramMaker) -> None:
    bonus = {"code": "gold-bonus", "name": "Gold bonus", "when": "purchase", "then": {"points": 100}}
    offer = {
        "code": "gold-days",
        "name": "Gold days",
        "rule": "gold-bonus",
        "audience": {"tiers": ["gold"]},
        "starts_at": (NOW - timedelta(hours=2)).isoformat(),
        "ends_at": (NOW + timedelta(days=7)).isoformat(),
    }
    api = make_program({"earning_rules": [*make_program.definition["earning_rules"], bonus], "offers": [offer]})
    gold, silver = member_in_tier(api, "gold", "800.00"), member_in_tier(api, "silver", "300.00")

    def bonus_of(member: str, moment: str) -> int:
        effects = api.purchase(member, [BEANS], occurred_at=moment)["effects"]
        return sum(e["points"] for e in effects if e["type"] == "points_earned" and e.get("rule") == "gold-bonus")

    inside = (NOW - timedelta(hours=1)).isoformat()
    assert bonus_of(gold, inside) == 100
    assert bonus_of(silver, inside) == 0
    assert bonus_of(gold, (NOW - timedelta(hours=3)).isoformat()) == 0


@pytest.mark.parametrize(
    ("offer", "message"),
    [
        pytest.param({"reward": "no-such-reward"}, "unknown reward(s) no-such-reward", id="unknown reward"),
        pytest.param(
            {"reward": "seasonal-beans", "audience": {"tiers": ["platinum"]}},
            "unknown tier(s) platinum",
            id="unknown tier",
        ),
        pytest.param(
            {"reward": "seasonal-beans", "audience": {"segments": ["nobody"]}},
            "unknown segment(s) nobody",
            id="unknown segment",
        ),
        pytest.param(
            {"reward": "seasonal-beans", "early_access": {"tiers": ["gold"], "hours": 48}},
            "early_access needs starts_at",
            id="early access without a start",
        ),
        pytest.param(
            {"rule": "welcome", "audience": {"segments": ["bean-lovers"]}},
            "a rule's audience is tiers only",
            id="segments on a rule",
        ),
        pytest.param({"reward": "seasonal-beans", "rule": "welcome"}, "exactly one of: reward, rule", id="two targets"),
    ],
)
def test_an_offer_that_names_nothing_real_is_refused_with_the_field(
    make_program: ProgramMaker, offer: dict[str, Any], message: str
) -> None:
    changes = {
        "rewards": [*make_program.definition["rewards"], SEASONAL],
        "segments": [BEAN_LOVERS],
        "offers": [{"code": "x", "name": "X", **offer}],
    }
    text = yaml.safe_dump(deep_merge(make_program.definition, changes), allow_unicode=True)
    with pytest.raises(ProgramFileInvalid) as refused:
        parse_text(text, "yaml")
    details = refused.value.details
    assert [detail["field"].split(".")[0] for detail in details] == ["offers"]
    assert message in details[0]["message"]


def test_an_order_counts_for_a_segment_while_any_of_it_is_kept(make_program: ProgramMaker) -> None:
    buyers = {"code": "buyers", "name": "Ordered in 30 days", "when": {"orders": {"at_least": 1, "within_days": 30}}}
    for_buyers = {
        "code": "for-buyers",
        "name": "For buyers",
        "reward": "seasonal-beans",
        "audience": {"segments": ["buyers"]},
    }
    api = program(make_program, for_buyers, segments=[buyers])
    anna = api.member("anna")
    gift_card = line("GIFT-CARD-25", "gift-cards", "25.00")  # earns no points in the demo's rules
    api.purchase(anna, [BEANS, gift_card], order_id="O-1", occurred_at=YESTERDAY)
    assert "for-buyers" in offers_of(api, anna)

    # Every line that earned points is refunded, the gift card is kept: the order still stands
    api.refund(anna, "O-1", occurred_at=NOW.isoformat(), refund_lines=[{"sku": "BEANS", "quantity": 1}])
    assert "for-buyers" in offers_of(api, anna)
    api.refund(anna, "O-1", occurred_at=NOW.isoformat(), refund_lines=[{"sku": "GIFT-CARD-25", "quantity": 1}])
    assert "for-buyers" not in offers_of(api, anna)
