"""Tiers and scheduled jobs through the HTTP API: upgrades at once, downgrades after grace, vesting, expiry, history."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.member import service as members
from punchcard.outbox.models import OutboxEvent
from tests.factories import (
    ApiClient,
    ProgramMaker,
    at_moment,
    earned,
    error_of,
    ledger_items,
    line,
    member_at,
    run_jobs,
    snapshot,
)
from tests.invariants.test_nightly_settlement import run_while_a_request_holds


def rules_of(response: dict[str, Any]) -> list[tuple[str, int, str | None]]:
    return [(effect["type"], effect.get("points", 0), effect.get("rule")) for effect in response["effects"]]


def tier_changes(response: dict[str, Any]) -> list[dict[str, Any]]:
    return [effect for effect in response["effects"] if effect["type"] == "tier_changed"]


def silver_member(api: ApiClient) -> str:
    """A member who became Silver with 600 purchase points on 1 June 2025 and bought nothing since."""
    member = api.member(enrolled_at="2025-05-01T10:00:00+00:00")
    first = api.purchase(member, [line("GRINDER", "brewing", "600.00")], occurred_at="2025-06-01T12:00:00+00:00")
    assert tier_changes(first) == [{"type": "tier_changed", "from": "bronze", "to": "silver", "reason": "upgrade"}]
    return member


def tier_state(api: ApiClient, member: str, moment: str) -> tuple[str, int, int, str | None]:
    """(tier code, qualifying value, needed to keep the tier, grace until) as the member sees it at ``moment``."""
    view = member_at(api, member, moment)
    progress = view["tier_progress"]
    return view["tier"]["code"], progress["value"], progress["needed_to_keep"], progress["grace_until"]


# --- tiers ------------------------------------------------------------------------------------------------------------


def test_an_upgrade_happens_as_soon_as_it_is_earned_and_later_orders_earn_the_new_multiplier(api: ApiClient) -> None:
    member = api.member(enrolled_at="2026-01-01T10:00:00+00:00")
    # 499 purchase points: still Bronze
    below = api.purchase(member, [line("GRINDER", "brewing", "499.99")], occurred_at="2026-02-01T10:00:00+00:00")
    assert (earned(below), tier_changes(below)) == (499, [])
    # The order that reaches 500 makes the member Silver at once; it earned at the Bronze rate itself
    reaching = api.purchase(member, [line("SPOON", "merch", "1.00")], occurred_at="2026-02-02T10:00:00+00:00")
    assert rules_of(reaching) == [("points_earned", 1, "everything-else"), ("tier_changed", 0, None)]
    assert tier_changes(reaching) == [{"type": "tier_changed", "from": "bronze", "to": "silver", "reason": "upgrade"}]
    # The next order is multiplied by 1.25 and rounded down once: (20 + 5) x 1.25 = 31.25 -> 31
    later = api.purchase(
        member,
        [line("BEANS-2", "coffee-beans", "10.00"), line("SPOON", "merch", "5.00")],
        occurred_at="2026-02-03T10:00:00+00:00",
    )
    assert rules_of(later) == [
        ("points_earned", 20, "coffee-beans"),
        ("points_earned", 5, "everything-else"),
        ("points_earned", 6, "tier-multiplier"),
    ]
    view = member_at(api, member, "2026-02-04T00:00:00+00:00")
    assert view["tier"] == {
        "code": "silver",
        "name": "Silver",
        "multiplier": "1.25",
        "perks": [],
        "since": "2026-02-02T10:00:00+00:00",
    }
    assert view["tier_progress"] == {
        "metric": "points",
        "window": "rolling_months",
        "value": 531,
        "next_tier": {"code": "gold", "name": "Gold", "threshold": 1500},
        "needed_for_next": 969,
        "needed_to_keep": 0,
        "grace_until": None,
    }


def test_an_amount_spent_tier_shows_its_progress_as_money_with_the_currency(make_program: ProgramMaker) -> None:
    # Given tiers by amount spent: Silver from 100.00 EUR, Gold from 250.00 EUR
    levels = [
        {"code": "bronze", "name": "Bronze", "threshold": 0},
        {"code": "silver", "name": "Silver", "threshold": "100.00"},
        {"code": "gold", "name": "Gold", "threshold": "250.00"},
    ]
    api = make_program({"tiers": {"metric": "amount_spent", "levels": levels}})
    member = api.member(enrolled_at="2026-01-01T10:00:00+00:00")

    # When they spend 120.50 EUR
    api.purchase(member, [line("KETTLE", "brewing", "120.50")], occurred_at="2026-02-01T10:00:00+00:00")

    # Then every amount in their progress is a decimal string with its currency, never bare cents
    progress = member_at(api, member, "2026-02-02T00:00:00+00:00")["tier_progress"]
    assert progress["metric"] == "amount_spent"
    assert progress["value"] == {"amount": "120.50", "currency": "EUR"}
    assert progress["next_tier"] == {
        "code": "gold",
        "name": "Gold",
        "threshold": {"amount": "250.00", "currency": "EUR"},
    }
    assert progress["needed_for_next"] == {"amount": "129.50", "currency": "EUR"}
    assert progress["needed_to_keep"] == {"amount": "0.00", "currency": "EUR"}


def test_one_big_order_goes_straight_to_the_top_tier_with_its_perks(api: ApiClient) -> None:
    member = api.member(enrolled_at="2026-01-01T10:00:00+00:00")
    response = api.purchase(member, [line("ESPRESSO-MACHINE", "brewing", "1500.00")])
    assert tier_changes(response) == [{"type": "tier_changed", "from": "bronze", "to": "gold", "reason": "upgrade"}]
    view = member_at(api, member, "2026-06-02T00:00:00+00:00")
    assert view["tier"]["code"] == "gold"
    assert view["tier"]["perks"] == [
        {"code": "free_shipping", "name": "Free shipping on every order"},
        {"code": "early_access", "name": "Early access to new roasts"},
    ]
    in_estonian = api.get(f"/api/v1/members/{member}", params={"lang": "et"}).json()["tier"]["perks"]
    assert [perk["name"] for perk in in_estonian] == ["Tasuta tarne igale tellimusele", "Uued röstid enne teisi"]
    progress = view["tier_progress"]
    assert (progress["next_tier"], progress["needed_for_next"], progress["needed_to_keep"]) == (None, None, 0)


def test_a_downgrade_waits_for_a_review_after_30_days_of_grace(api: ApiClient, engine: Engine) -> None:
    member = silver_member(api)
    # On 31 May 2026 (Tallinn) the June 2025 order is still inside the rolling 12 months: the review keeps Silver
    run_jobs(api, engine, "2026-05-31T20:00:00+00:00")
    assert tier_state(api, member, "2026-05-31T20:30:00+00:00") == ("silver", 600, 0, None)
    # On 1 June it has left the window: the review starts 30 days of grace, the member is still Silver
    run_jobs(api, engine, "2026-06-01T12:00:00+00:00")
    assert tier_state(api, member, "2026-06-02T00:00:00+00:00") == ("silver", 0, 500, "2026-07-01T12:00:00+00:00")
    # and tells the member what keeps it (tier.at_risk), once
    warned = {"tier": "silver", "drops_to": "bronze", "metric": "points", "needed": 500}
    assert at_risk(api, engine) == [{**warned, "grace_until": "2026-07-01T12:00:00+00:00"}]
    # Neither time alone nor a review before the grace ends changes the tier
    run_jobs(api, engine, "2026-07-01T11:59:59+00:00")
    assert tier_state(api, member, "2026-07-01T11:59:59+00:00")[0] == "silver"
    # The first review once the grace has run out downgrades to what the member qualifies for
    run_jobs(api, engine, "2026-07-01T12:00:00+00:00")
    view = member_at(api, member, "2026-07-02T00:00:00+00:00")
    assert (view["tier"]["code"], view["tier"]["since"]) == ("bronze", "2026-07-01T12:00:00+00:00")
    assert (view["tier_progress"]["grace_until"], view["tier_progress"]["needed_for_next"]) == (None, 500)
    # Reviewing again at the same moment, or later, changes nothing more
    before = snapshot(api, member), view
    run_jobs(api, engine, "2026-07-01T12:00:00+00:00")
    run_jobs(api, engine, "2026-07-20T12:00:00+00:00")
    assert (snapshot(api, member), member_at(api, member, "2026-07-02T00:00:00+00:00")) == before
    assert len(at_risk(api, engine)) == 1


def at_risk(api: ApiClient, engine: Engine) -> list[dict[str, object]]:
    with Session(engine) as session:
        rows = session.execute(
            select(OutboxEvent.payload).where(
                OutboxEvent.program_id == api.program_id, OutboxEvent.type == "tier.at_risk"
            )
        ).scalars()
        return [dict(row) for row in rows]


def test_requalifying_during_the_grace_keeps_the_tier(api: ApiClient, engine: Engine) -> None:
    member = silver_member(api)
    run_jobs(api, engine, "2026-06-01T12:00:00+00:00")
    assert tier_state(api, member, "2026-06-02T00:00:00+00:00") == ("silver", 0, 500, "2026-07-01T12:00:00+00:00")
    # 400.00 at the Silver rate earns 500 points: enough to keep Silver, so the grace ends with no tier change
    response = api.purchase(member, [line("GRINDER", "brewing", "400.00")], occurred_at="2026-06-10T12:00:00+00:00")
    assert (earned(response), tier_changes(response)) == (500, [])
    assert tier_state(api, member, "2026-06-11T00:00:00+00:00") == ("silver", 500, 0, None)
    run_jobs(api, engine, "2026-07-01T12:00:00+00:00")
    view = member_at(api, member, "2026-07-02T00:00:00+00:00")
    assert (view["tier"]["code"], view["tier"]["since"]) == ("silver", "2025-06-01T12:00:00+00:00")


# --- jobs: vesting and expiry -----------------------------------------------------------------------------------------


def test_pending_points_become_available_when_the_return_window_closes(
    make_program: ProgramMaker, engine: Engine
) -> None:
    api = make_program({"points": {"pending_days": 14}})
    member = api.member(enrolled_at="2026-05-01T10:00:00+00:00")
    purchase = api.purchase(member, [line("KETTLE", "brewing", "100.00")], occurred_at="2026-06-01T12:00:00+00:00")
    assert purchase["effects"][0]["pending_until"] == "2026-06-14T21:00:00+00:00"  # the end of 14 June in Tallinn
    run_jobs(api, engine, "2026-06-14T20:59:59+00:00")
    points = api.points(member)
    assert (points["available"], points["pending"]) == (50, 100)
    run_jobs(api, engine, "2026-06-14T21:00:00+00:00")
    points = api.points(member)
    assert (points["available"], points["pending"], points["lifetime_earned"]) == (150, 0, 150)
    newest = ledger_items(api, member)[:2]
    assert [(e["account"], e["kind"], e["points"], e["occurred_at"]) for e in newest] == [
        ("points", "vest", 100, "2026-06-14T21:00:00+00:00"),
        ("pending_points", "vest", -100, "2026-06-14T21:00:00+00:00"),
    ]
    # Running again, at the same moment or later, vests nothing twice
    before = snapshot(api, member)
    run_jobs(api, engine, "2026-06-14T21:00:00+00:00")
    run_jobs(api, engine, "2026-06-30T00:00:00+00:00")
    assert snapshot(api, member) == before


def test_points_expire_at_the_end_of_the_local_day_twelve_months_later_and_not_before(
    api: ApiClient, engine: Engine
) -> None:
    # Welcome points of 1 July 2025 and 100 points of 15 July 2025 (summer: Tallinn is UTC+3)
    member = api.member(enrolled_at="2025-07-01T09:00:00+00:00")
    api.purchase(member, [line("KETTLE", "brewing", "100.00")], occurred_at="2025-07-15T10:00:00+00:00")
    assert member_at(api, member, "2026-06-30T00:00:00+00:00")["points"]["expiring"] == [
        {"points": 50, "expires_at": "2026-07-01T21:00:00+00:00"},
        {"points": 100, "expires_at": "2026-07-15T21:00:00+00:00"},
    ]
    run_jobs(api, engine, "2026-07-01T20:59:59+00:00")
    assert api.available(member) == 150
    run_jobs(api, engine, "2026-07-01T21:00:00+00:00")
    assert api.available(member) == 100
    run_jobs(api, engine, "2026-07-15T20:59:59+00:00")
    assert api.available(member) == 100
    # A run days later expires the lot, dated at the lot's own expiry, not at the run
    run_jobs(api, engine, "2026-07-20T00:00:00+00:00")
    assert api.available(member) == 0
    expiries = [(e["points"], e["occurred_at"]) for e in ledger_items(api, member) if e["kind"] == "expire"]
    assert expiries == [(-100, "2026-07-15T21:00:00+00:00"), (-50, "2026-07-01T21:00:00+00:00")]
    # Running again expires nothing twice
    before = snapshot(api, member)
    run_jobs(api, engine, "2026-07-20T00:00:00+00:00")
    run_jobs(api, engine, "2026-08-01T00:00:00+00:00")
    assert snapshot(api, member) == before


def test_expiry_follows_the_programs_local_day_not_the_utc_day(api: ApiClient, engine: Engine) -> None:
    # Earned at 23:30 UTC on 15 December 2025, which is already 16 December in Tallinn (UTC+2)
    member = api.member(enrolled_at="2025-12-01T10:00:00+00:00")
    api.purchase(member, [line("KETTLE", "brewing", "100.00")], occurred_at="2025-12-15T23:30:00+00:00")
    run_jobs(api, engine, "2026-12-01T22:00:00+00:00")  # the welcome points of 1 December expire
    run_jobs(api, engine, "2026-12-16T21:59:59+00:00")
    assert api.available(member) == 100
    run_jobs(api, engine, "2026-12-16T22:00:00+00:00")
    assert api.available(member) == 0


def test_spending_uses_the_soonest_expiring_points_first_so_only_the_rest_expires(
    api: ApiClient, engine: Engine
) -> None:
    member = api.member(enrolled_at="2025-07-01T09:00:00+00:00")  # 50 points expiring 1 July 2026
    api.purchase(member, [line("KETTLE", "brewing", "100.00")], occurred_at="2025-07-15T10:00:00+00:00")
    api.purchase(member, [line("GRINDER", "brewing", "100.00")], occurred_at="2025-08-01T10:00:00+00:00")
    redemption = at_moment(
        api,
        "2025-09-01T10:00:00+00:00",
        "POST",
        f"/api/v1/members/{member}/redemptions",
        {"reward": "free-drink"},
        headers={"Idempotency-Key": "drink-1"},
    )
    assert redemption.status_code == 201, redemption.text
    # The 150 came from the welcome lot and the July lot: nothing of them is left to expire
    before = snapshot(api, member)
    run_jobs(api, engine, "2026-07-20T00:00:00+00:00")
    assert snapshot(api, member) == before
    assert api.available(member) == 100
    run_jobs(api, engine, "2026-08-01T21:00:00+00:00")
    assert api.available(member) == 0
    assert [(e["kind"], e["points"]) for e in ledger_items(api, member)[:1]] == [("expire", -100)]


# --- the ledger endpoint ----------------------------------------------------------------------------------------------


def test_the_ledger_lists_entries_newest_first_in_pages(api: ApiClient) -> None:
    member = api.member(enrolled_at="2026-01-01T10:00:00+00:00")
    for number in range(1, 5):
        api.purchase(
            member,
            [line("MUG", "merch", f"{number}0.00")],
            order_id=f"O-{number}",
            occurred_at=f"2026-02-0{number}T10:00:00+00:00",
        )
    # Welcome + 4 orders with a points entry and a tier credits entry each: 9 entries, newest first
    everything = ledger_items(api, member)
    assert [(e["account"], e["points"], e["order_id"]) for e in everything] == [
        ("tier_credits", 40, "O-4"),
        ("points", 40, "O-4"),
        ("tier_credits", 30, "O-3"),
        ("points", 30, "O-3"),
        ("tier_credits", 20, "O-2"),
        ("points", 20, "O-2"),
        ("tier_credits", 10, "O-1"),
        ("points", 10, "O-1"),
        ("points", 50, None),
    ]
    assert [e["id"] for e in everything] == sorted((e["id"] for e in everything), reverse=True)
    # Pages of 4 follow next_cursor through `before` until there is none
    pages: list[list[dict[str, Any]]] = []
    cursor: int | None = None
    while True:
        params: dict[str, int] = {"limit": 4} | ({"before": cursor} if cursor is not None else {})
        response = api.get(f"/api/v1/members/{member}/ledger", params=params)
        assert response.status_code == 200, response.text
        pages.append(response.json()["items"])
        cursor = response.json()["next_cursor"]
        if cursor is None:
            break
        assert cursor == pages[-1][-1]["id"]
    assert [len(page) for page in pages] == [4, 4, 1]
    assert [entry for page in pages for entry in page] == everything
    # A last page that is exactly full says there is nothing more
    exact = api.get(f"/api/v1/members/{member}/ledger", params={"limit": 3, "before": everything[5]["id"]}).json()
    assert (exact["items"], exact["next_cursor"]) == (everything[6:], None)


def test_the_ledger_of_an_unknown_member_is_member_not_found(api: ApiClient) -> None:
    error_of(api.get("/api/v1/members/nobody/ledger"), 404, "member_not_found")


def test_a_member_a_request_holds_during_the_review_is_reviewed_in_the_same_run_once_it_is_free(
    api: ApiClient, engine: Engine
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's writers take turns (BEGIN IMMEDIATE): a review never meets a member a request holds")
    # Given a Silver member whose qualifying order left the window (the review starts a grace period), and a
    # request holding that member when the run starts
    member = silver_member(api)
    run_jobs(api, engine, "2026-05-31T20:00:00+00:00")  # what else was due (the welcome points' expiry) is done
    moment = datetime(2026, 6, 1, 12, tzinfo=UTC)
    with Session(engine) as look:
        member_id = members.get(look, api.program_id, member).id
    # When the run has walked past the member and waits for it, and then the request ends
    report = run_while_a_request_holds(engine, member_id, at=moment, now=moment, batch_size=2, only=[api.slug])
    # Then the same run reviewed the member: the grace period started tonight, not tomorrow
    assert report.members_reviewed == 1
    assert tier_state(api, member, "2026-06-02T00:00:00+00:00") == ("silver", 0, 500, "2026-07-01T12:00:00+00:00")
