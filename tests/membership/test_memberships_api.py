"""Paid memberships through the API: a start (in the trial, once), renewals, failures and recovery, cancelling, the
jobs ending and lapsing them, the perks in the member and in the rules engine, the monthly reward, and refusals that
change nothing."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from punchcard.program.errors import ProgramFileInvalid
from punchcard.program.service import parse_text
from tests.conftest import Clock
from tests.factories import ApiClient, ProgramMaker, deliver_outbox, error_of, line, run_jobs

BEAN_CLUB: dict[str, Any] = {
    "code": "bean-club",
    "name": {"en": "Bean Club", "et": "Oaklubi"},
    "prices": {"month": "4.99", "year": "49.00"},
    "trial_days": 14,
    "grace_days": 7,
    "perks": {
        "earn_multiplier": 2,
        "free_shipping": True,
        "percent_off": {"percent": 10, "categories": ["coffee-beans"]},
        "monthly_reward": "free-drink",
    },
}
ONE_POINT_PER_EURO = [
    {"code": "per-euro", "name": "1 point per €", "when": "purchase", "then": {"points_per_currency_unit": 1}}
]
STARTED = "2026-11-20T10:00:00+00:00"
TRIAL_ENDS = "2026-12-04T10:00:00+00:00"


def program(make_program: ProgramMaker, **changes: Any) -> ApiClient:
    return make_program({"membership_plans": [BEAN_CLUB], "earning_rules": ONE_POINT_PER_EURO, **changes})


def start(api: ApiClient, member: str, *, expect: int = 201, **fields: Any) -> dict[str, Any]:
    body = {"plan": "bean-club", "period": "month", "payment_ref": f"pay-{member}", "started_at": STARTED, **fields}
    response = api.post(f"/api/v1/members/{member}/memberships", body)
    assert response.status_code == expect, response.text
    return dict(response.json())


def membership_event(
    api: ApiClient, member: str, kind: str, at: str, expect: int = 201, **fields: Any
) -> dict[str, Any]:
    body = {"id": api.next_id(kind), "type": kind, "member_external_id": member, "occurred_at": at, **fields}
    response = api.post("/api/v1/events", body)
    assert response.status_code == expect, response.text
    return dict(response.json())


def membership_of(api: ApiClient, member: str) -> dict[str, Any]:
    response = api.get(f"/api/v1/members/{member}")
    assert response.status_code == 200, response.text
    return dict(response.json()["membership"])


def coupons_of(api: ApiClient, member: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/members/{member}/coupons")
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_a_start_is_a_free_trial_with_the_plans_perks_in_the_member(make_program: ProgramMaker) -> None:
    api = program(make_program)
    anna = api.member("anna")
    answer = start(api, anna)
    assert answer["effects"][0] == {
        "type": "membership_started",
        "plan": "bean-club",
        "status": "trialing",
        "current_period_end": TRIAL_ENDS,
    }
    membership = membership_of(api, anna)
    assert membership["status"] == "trialing"
    assert membership["plan_name"] == "Bean Club"
    assert membership["current_period_end"] == TRIAL_ENDS
    assert membership["price"] == {"amount": "4.99", "currency": "EUR"}
    assert membership["paid"] == {"amount": "0.00", "currency": "EUR"}
    assert [perk["code"] for perk in membership["perks"]] == [
        "earn_multiplier",
        "free_shipping",
        "percent_off",
        "monthly_reward",
    ]
    assert api.get(f"/api/v1/members/{anna}/membership").json() == membership


def test_the_same_start_again_is_answered_as_the_first_and_changes_nothing(make_program: ProgramMaker) -> None:
    api = program(make_program)
    anna = api.member("anna")
    first = start(api, anna, started_at=None)
    again = start(api, anna, started_at=None, expect=200)
    assert again == first
    assert len(coupons_of(api, anna)) == 1


def test_a_member_without_a_membership_has_none_and_reading_it_is_not_found(make_program: ProgramMaker) -> None:
    api = program(make_program)
    bert = api.member("bert")
    assert api.get(f"/api/v1/members/{bert}").json()["membership"] is None
    error_of(api.get(f"/api/v1/members/{bert}/membership"), 404, "membership_not_found")


def test_a_program_without_plans_shows_no_membership_at_all(make_program: ProgramMaker) -> None:
    api = make_program({"earning_rules": ONE_POINT_PER_EURO})
    assert "membership" not in api.get(f"/api/v1/members/{api.member()}").json()


def test_members_on_the_plan_earn_twice_on_top_of_the_rules_named_in_the_ledger(
    make_program: ProgramMaker,
) -> None:
    api = program(make_program)
    anna, bert = api.member("anna"), api.member("bert")
    start(api, anna)
    at = "2026-11-24T12:00:00+00:00"
    club = api.purchase(anna, [line("BEANS", "coffee-beans", "10.00")], occurred_at=at)
    plain = api.purchase(bert, [line("BEANS", "coffee-beans", "10.00")], occurred_at=at)
    assert [(effect["rule"], effect["points"]) for effect in club["effects"]] == [
        ("per-euro", 10),
        ("plan:bean-club", 10),
    ]
    assert [(effect["rule"], effect["points"]) for effect in plain["effects"]] == [("per-euro", 10)]


def test_rules_can_ask_for_a_plan_or_a_perk(make_program: ProgramMaker) -> None:
    rules = [
        *ONE_POINT_PER_EURO,
        {
            "code": "club-day",
            "name": "Club day",
            "when": "purchase",
            "if": {"plan": ["bean-club"]},
            "then": {"points": 5},
        },
        {
            "code": "shipped",
            "name": "Free shipping",
            "when": "purchase",
            "if": {"has_perk": ["free_shipping"]},
            "then": {"points": 1},
        },
    ]
    api = program(make_program, earning_rules=rules)
    anna, bert = api.member("anna"), api.member("bert")
    start(api, anna)
    at = "2026-11-24T12:00:00+00:00"
    club = {effect["rule"] for effect in api.purchase(anna, [line("X", "merch", "1.00")], occurred_at=at)["effects"]}
    plain = {effect["rule"] for effect in api.purchase(bert, [line("X", "merch", "1.00")], occurred_at=at)["effects"]}
    assert {"club-day", "shipped"} <= club
    assert not {"club-day", "shipped"} & plain


def test_a_rule_naming_an_unknown_plan_is_refused_with_the_field() -> None:
    bad = [{"code": "x", "name": "X", "when": "purchase", "if": {"plan": ["gold-club"]}, "then": {"points": 1}}]
    definition = {
        "slug": "x",
        "name": "X",
        "currency": "EUR",
        "timezone": "Europe/Tallinn",
        "languages": ["en"],
        "membership_plans": [{**BEAN_CLUB, "name": "Bean Club", "perks": {"free_shipping": True}}],
        "earning_rules": bad,
    }
    with pytest.raises(ProgramFileInvalid) as refused:
        parse_text(yaml.safe_dump(definition), "yaml")
    assert "unknown membership plan(s) gold-club" in str(refused.value.details)


def test_paying_at_the_trials_end_converts_it_and_the_same_payment_again_is_a_replay(
    make_program: ProgramMaker, clock: Clock
) -> None:
    api = program(make_program)
    anna = api.member("anna")
    start(api, anna)
    clock.set("2026-12-05T00:00:00+00:00")
    body = {
        "id": "renew-1",
        "type": "membership_renewed",
        "member_external_id": anna,
        "occurred_at": TRIAL_ENDS,
        "amount": "4.99",
        "currency": "EUR",
        "attributes": {"payment_ref": "in_2"},
    }
    first = api.post("/api/v1/events", body)
    assert first.status_code == 201, first.text
    assert first.json()["effects"][0]["status"] == "active"
    assert api.post("/api/v1/events", body).json() == first.json()
    assert api.post("/api/v1/events", body).status_code == 200
    membership = membership_of(api, anna)
    assert membership["status"] == "active"
    assert membership["current_period_end"] == "2027-01-04T10:00:00+00:00"
    assert membership["paid"] == {"amount": "4.99", "currency": "EUR"}


def test_a_failed_payment_keeps_the_perks_through_the_grace_then_the_jobs_lapse_it(
    make_program: ProgramMaker, clock: Clock, engine: Engine, client: TestClient
) -> None:
    api = program(make_program)
    anna = api.member("anna")
    start(api, anna)
    clock.set("2026-12-06T00:00:00+00:00")
    failed = membership_event(api, anna, "membership_payment_failed", TRIAL_ENDS)
    assert failed["effects"][0]["status"] == "past_due"
    assert membership_of(api, anna)["grace_until"] == "2026-12-11T10:00:00+00:00"
    during = api.purchase(anna, [line("X", "merch", "3.00")], occurred_at="2026-12-05T12:00:00+00:00")
    assert "plan:bean-club" in {effect["rule"] for effect in during["effects"]}
    run_jobs(api, engine, "2026-12-11T10:00:00+00:00")
    clock.set("2026-12-12T00:00:00+00:00")
    lapsed = membership_of(api, anna)
    assert lapsed["status"] == "lapsed"
    assert lapsed["perks"] == []
    after = api.purchase(anna, [line("X", "merch", "3.00")], occurred_at="2026-12-11T12:00:00+00:00")
    assert "plan:bean-club" not in {effect["rule"] for effect in after["effects"]}
    deliver_outbox(client)


def test_a_payment_inside_the_grace_recovers_the_membership(make_program: ProgramMaker, clock: Clock) -> None:
    api = program(make_program)
    anna = api.member("anna")
    start(api, anna)
    clock.set("2026-12-10T00:00:00+00:00")
    membership_event(api, anna, "membership_payment_failed", TRIAL_ENDS)
    renewed = membership_event(
        api, anna, "membership_renewed", "2026-12-08T09:00:00+00:00", attributes={"payment_ref": "in_3"}
    )
    assert renewed["effects"][0]["status"] == "active"
    assert membership_of(api, anna)["current_period_end"] == "2027-01-04T10:00:00+00:00"


def test_cancelling_now_ends_the_membership_and_says_what_to_refund(make_program: ProgramMaker, clock: Clock) -> None:
    api = program(make_program)
    anna = api.member("anna")
    start(api, anna, plan="bean-club", period="year", payment_ref="yearly")
    clock.set("2026-12-05T00:00:00+00:00")
    membership_event(api, anna, "membership_renewed", TRIAL_ENDS, attributes={"payment_ref": "in_y"})
    cancelled = membership_event(
        api, anna, "membership_cancelled", "2026-12-04T10:00:00+00:00", attributes={"at_period_end": False}
    )
    [effect] = cancelled["effects"]
    assert effect["status"] == "cancelled"
    assert effect["at_period_end"] is False
    assert effect["refund"] == {"amount": "49.00", "currency": "EUR"}  # cancelled as the paid year began
    assert membership_of(api, anna)["status"] == "cancelled"


def test_cancelling_at_the_period_end_keeps_it_current_until_then(make_program: ProgramMaker, clock: Clock) -> None:
    api = program(make_program)
    anna = api.member("anna")
    start(api, anna)
    membership_event(api, anna, "membership_cancelled", "2026-11-24T10:00:00+00:00")
    membership = membership_of(api, anna)
    assert membership["status"] == "trialing"
    assert membership["cancel_at_period_end"] is True
    clock.set(TRIAL_ENDS)
    assert membership_of(api, anna)["status"] == "cancelled"


def test_a_member_whose_membership_ended_may_rejoin_but_has_no_second_trial(
    make_program: ProgramMaker, clock: Clock
) -> None:
    api = program(make_program)
    anna = api.member("anna")
    start(api, anna)
    membership_event(
        api, anna, "membership_cancelled", "2026-11-21T10:00:00+00:00", attributes={"at_period_end": False}
    )
    again = start(api, anna, payment_ref="pay-again", started_at="2026-11-22T10:00:00+00:00")
    assert again["membership"]["status"] == "active"
    assert again["membership"]["paid"] == {"amount": "4.99", "currency": "EUR"}


def test_the_monthly_reward_is_a_coupon_at_the_start_and_each_month_the_jobs_run(
    make_program: ProgramMaker, engine: Engine, clock: Clock
) -> None:
    api = program(make_program)
    anna = api.member("anna")
    start(api, anna, period="year", started_at="2026-10-01T10:00:00+00:00", payment_ref="y-1")
    clock.set("2026-10-20T00:00:00+00:00")
    membership_event(api, anna, "membership_renewed", "2026-10-15T10:00:00+00:00", attributes={"payment_ref": "y-2"})
    assert [coupon["reward"] for coupon in coupons_of(api, anna)] == ["free-drink"]
    # Each month's comes on its local day and hour (13:00 in Tallinn, 11:00 UTC in winter), once however often the
    # jobs run.
    run_jobs(api, engine, "2026-12-01T10:59:00+00:00")
    assert len(coupons_of(api, anna)) == 2
    run_jobs(api, engine, "2026-12-01T11:00:00+00:00")
    run_jobs(api, engine, "2026-12-01T11:00:00+00:00")
    assert len(coupons_of(api, anna)) == 3


def test_refusals_are_clear_and_change_nothing(make_program: ProgramMaker) -> None:
    api = program(make_program)
    anna = api.member("anna")
    error_of(
        api.post(f"/api/v1/members/{anna}/memberships", {"plan": "gold", "period": "month", "payment_ref": "p"}),
        422,
        "membership_plan_unknown",
    )
    error_of(
        api.post(f"/api/v1/members/{anna}/memberships", {"plan": "bean-club", "period": "week", "payment_ref": "p"}),
        422,
        "validation_error",
    )
    error_of(
        api.post("/api/v1/members/nobody/memberships", {"plan": "bean-club", "period": "month", "payment_ref": "p"}),
        404,
        "member_not_found",
    )
    body = {"id": "c-1", "type": "membership_cancelled", "member_external_id": anna, "occurred_at": STARTED}
    error_of(api.post("/api/v1/events", body), 409, "membership_not_current")
    renew = {"id": "r-1", "type": "membership_renewed", "member_external_id": anna, "occurred_at": STARTED}
    error_of(api.post("/api/v1/events", renew), 422, "validation_error")
    assert api.get(f"/api/v1/members/{anna}").json()["membership"] is None
    start(api, anna)
    error_of(
        api.post(
            f"/api/v1/members/{anna}/memberships", {"plan": "bean-club", "period": "month", "payment_ref": "other"}
        ),
        409,
        "membership_already_current",
    )


def test_the_checkout_asks_what_the_plan_takes_off_an_order(make_program: ProgramMaker, clock: Clock) -> None:
    api = program(make_program)
    anna, bert = api.member("anna"), api.member("bert")
    start(api, anna)
    order = {
        "total": "33.49",
        "currency": "EUR",
        "shipping": "4.90",
        "lines": [line("BEANS", "coffee-beans", "12.45", 2), line("MUG", "merch", "3.69")],
    }
    quote = api.post(f"/api/v1/members/{anna}/membership/benefits", {"order": order}).json()
    assert quote == {
        "plan": "bean-club",
        "benefits": [
            {"perk": "free_shipping", "discount": {"amount": "4.90", "currency": "EUR"}},
            {"perk": "percent_off", "discount": {"amount": "2.49", "currency": "EUR"}},  # 10 % of 24.90, rounded down
        ],
        "discount": {"amount": "7.39", "currency": "EUR"},
    }
    none = api.post(f"/api/v1/members/{bert}/membership/benefits", {"order": order}).json()
    assert none == {"plan": None, "benefits": [], "discount": {"amount": "0.00", "currency": "EUR"}}
    clock.set("2026-12-20T00:00:00+00:00")  # the trial ended on 4 December, its grace on the 11th
    assert api.post(f"/api/v1/members/{anna}/membership/benefits", {"order": order}).json()["benefits"] == []
    error_of(
        api.post(f"/api/v1/members/{anna}/membership/benefits", {"order": {**order, "currency": "USD"}}),
        422,
        "currency_mismatch",
    )


def test_offers_may_be_for_a_plans_members_and_a_plan_may_open_them_early(make_program: ProgramMaker) -> None:
    club = {**BEAN_CLUB, "perks": {**BEAN_CLUB["perks"], "early_access_hours": 48}}
    offers = [
        {"code": "club-beans", "name": "Club beans", "reward": "free-drink", "audience": {"plans": ["bean-club"]}},
        {
            "code": "new-roast",
            "name": "New roast",
            "reward": "five-euro-off",
            "starts_at": "2026-11-26T12:00:00+00:00",
        },
    ]
    api = program(make_program, membership_plans=[club], offers=offers)
    anna, bert = api.member("anna"), api.member("bert")
    start(api, anna)

    def standing(member: str) -> dict[str, tuple[bool, str | None, str | None]]:
        items = api.get("/api/v1/offers", params={"member": member}).json()["items"]
        return {item["code"]: (item["available"], item["locked_reason"], item["opens_at"]) for item in items}

    assert standing(anna)["club-beans"][1] != "plan_required"
    assert standing(bert)["club-beans"] == (False, "plan_required", None)
    assert standing(anna)["new-roast"][2] == "2026-11-24T12:00:00+00:00"  # 48 hours early: open already
    assert standing(anna)["new-roast"][1] != "not_started"
    assert standing(bert)["new-roast"] == (False, "not_started", "2026-11-26T12:00:00+00:00")
