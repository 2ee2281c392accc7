"""A refund takes away what its order gave to challenges and streaks, and nothing more: a refund inside the return
window that takes the goal away reverses the completion (its points, its unused coupon, its badge); after the window
the completion stands; partial refunds take their share of spend and the rest takes the rest, reversing once."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from punchcard.ledger.verify import verify
from tests.challenge.games import BEANS, CAKE, MUG, badges, challenge, games_of, join, with_games
from tests.conftest import Clock
from tests.factories import ApiClient, ProgramMaker, line

RETURN_WINDOW = {"points": {"pending_days": 14}}
"""Points (a purchase's and a prize's) are pending for 14 days: the return window."""


def explorer_completed(make_program: ProgramMaker, clock: Clock) -> tuple[ApiClient, str]:
    """A member who joined explorer on 1 June and completed it on 4 June (orders O-B, O-M, O-C); the window of the
    completing order closes at the end of 17 June in Tallinn. The API's clock reads 20 June."""
    api = make_program(with_games(streaks=[], **RETURN_WINDOW))
    clock.set("2026-06-01T09:00:00+00:00")
    member = api.member(enrolled_at="2026-05-01T09:00:00+00:00")
    join(api, member, "explorer")
    clock.set("2026-06-20T09:00:00+00:00")
    for order, day, bought in (("O-B", 2, BEANS), ("O-M", 3, MUG), ("O-C", 4, CAKE)):
        api.purchase(member, [bought], order_id=f"{order}-{member}", occurred_at=f"2026-06-0{day}T10:00:00+00:00")
    return api, member


def test_a_refund_inside_the_return_window_reverses_the_completion_and_it_can_be_completed_again(
    make_program: ProgramMaker, clock: Clock, engine: Engine
) -> None:
    api, member = explorer_completed(make_program, clock)
    before = api.points(member)
    # When the beans order is refunded on 10 June, inside the completing order's return window
    refund = api.refund(member, f"O-B-{member}", occurred_at="2026-06-10T12:00:00+00:00", amount="10.00")
    # Then the completion is reversed: the 150 pending points taken back, the badge revoked, progress 2 of 3
    assert games_of(refund) == [
        {"type": "challenge_reversed", "challenge": "explorer", "order_id": f"O-B-{member}"},
        {"type": "points_revoked", "points": 150, "cause": "challenge"},
        {"type": "badge_revoked", "badge": "explorer", "level": None},
        {"type": "challenge_progressed", "challenge": "explorer", "current": 2, "target": 3},
    ]
    assert api.points(member)["pending"] == before["pending"] - 20 - 150  # the order's own 20 and the prize
    shown = challenge(api, member, "explorer")
    assert (shown["status"], shown["progress"], shown["completed_at"]) == ("joined", {"current": 2, "target": 3}, None)
    assert badges(api, member)["explorer"]["earned"] is False
    # And a purchase from another category completes it again, with its prize again
    again = api.purchase(member, [line("GIFT", "gift-cards", "25.00")], occurred_at="2026-06-11T10:00:00+00:00")
    assert [effect["type"] for effect in games_of(again)] == ["points_earned", "challenge_completed", "badge_awarded"]
    assert badges(api, member)["explorer"]["times"] == 1
    with Session(engine) as session:
        assert verify(session, api.program_id).problems == []


def test_a_refund_after_the_return_window_leaves_the_completion_standing(
    make_program: ProgramMaker, clock: Clock
) -> None:
    api, member = explorer_completed(make_program, clock)
    refund = api.refund(member, f"O-B-{member}", occurred_at="2026-06-17T21:00:00+00:00", amount="10.00")
    assert games_of(refund) == []
    assert [effect["type"] for effect in refund["effects"]] == ["points_reversed"]  # the order's own points only
    assert challenge(api, member, "explorer")["status"] == "completed"
    assert badges(api, member)["explorer"]["earned"] is True


def test_a_partial_refund_takes_its_share_of_spend_and_the_rest_the_rest_reversing_the_prize_once(
    make_program: ProgramMaker, clock: Clock, engine: Engine
) -> None:
    # Given a monthly challenge: spend 50 € in a month → 150 points and a free drink
    spend = {
        "code": "big-month",
        "name": "Big month",
        "goal": {"spend": "50.00"},
        "window": {"every": "month"},
        "prize": {"points": 150, "reward": "free-drink"},
    }
    api = make_program(with_games(spend, streaks=[], **RETURN_WINDOW))
    clock.set("2026-06-20T09:00:00+00:00")
    member = api.member(enrolled_at="2026-05-01T09:00:00+00:00")
    api.purchase(
        member, [line("MUG", "merch", "30.00")], order_id=f"O-1-{member}", occurred_at="2026-06-02T10:00:00+00:00"
    )
    done = api.purchase(member, [line("CUP", "merch", "25.00")], occurred_at="2026-06-03T10:00:00+00:00")
    [completed] = [effect for effect in games_of(done) if effect["type"] == "challenge_completed"]
    # When a third of the first order is refunded, then the rest of it
    third = api.refund(member, f"O-1-{member}", occurred_at="2026-06-05T10:00:00+00:00", amount="10.00")
    rest = api.refund(member, f"O-1-{member}", occurred_at="2026-06-06T10:00:00+00:00", amount="20.00")
    # Then the third took 9.99 € of its 30 € away (the share, rounded down): under 50 €, so the prize went back
    assert games_of(third) == [
        {"type": "challenge_reversed", "challenge": "big-month", "order_id": f"O-1-{member}"},
        {"type": "points_revoked", "points": 150, "cause": "challenge"},
        {"type": "challenge_progressed", "challenge": "big-month", "current": "45.01", "target": "50.00"},
    ]
    # And the rest took the rest of the order away, and nothing more back
    assert games_of(rest) == [
        {"type": "challenge_progressed", "challenge": "big-month", "current": "25.00", "target": "50.00"}
    ]
    coupons = api.get(f"/api/v1/members/{member}/coupons").json()["items"]
    assert [(item["code"], item["status"]) for item in coupons] == [(completed["coupon"], "revoked")]
    with Session(engine) as session:
        assert verify(session, api.program_id).problems == []


def test_a_partial_refund_leaves_an_order_counted_until_it_is_refunded_whole(
    make_program: ProgramMaker, clock: Clock
) -> None:
    three = {"code": "three", "name": "Three orders", "goal": {"count": 3}, "window": {"every": "month"}}
    api = make_program(with_games({**three, "prize": {"points": 10}}, streaks=[]))
    clock.set("2026-06-20T09:00:00+00:00")
    member = api.member(enrolled_at="2026-05-01T09:00:00+00:00")
    order = f"O-1-{member}"
    api.purchase(member, [BEANS, MUG], order_id=order, occurred_at="2026-06-02T10:00:00+00:00")
    api.purchase(member, [CAKE], occurred_at="2026-06-03T10:00:00+00:00")
    partly = api.refund(
        member, order, occurred_at="2026-06-04T10:00:00+00:00", refund_lines=[{"sku": "MUG", "quantity": 1}]
    )
    whole = api.refund(
        member, order, occurred_at="2026-06-05T10:00:00+00:00", refund_lines=[{"sku": "BEANS", "quantity": 1}]
    )
    assert games_of(partly) == []
    assert games_of(whole) == [{"type": "challenge_progressed", "challenge": "three", "current": 1, "target": 3}]


def test_a_refund_inside_the_window_takes_away_a_month_a_streak_milestone_counted(
    make_program: ProgramMaker, clock: Clock, engine: Engine
) -> None:
    api = make_program(with_games(streaks=None, **RETURN_WINDOW))
    clock.set("2026-06-20T09:00:00+00:00")
    member = api.member(enrolled_at="2026-01-01T09:00:00+00:00")
    for month in (1, 2, 3):
        api.purchase(member, [MUG], order_id=f"O-{month}-{member}", occurred_at=f"2026-0{month}-10T10:00:00+00:00")
    # When February's order is refunded within March's return window, and January's after it
    february = api.refund(member, f"O-2-{member}", occurred_at="2026-03-15T10:00:00+00:00", amount="12.00")
    january = api.refund(member, f"O-1-{member}", occurred_at="2026-03-30T10:00:00+00:00", amount="12.00")
    # Then the milestone reached in March was reversed: the run is now March alone
    assert games_of(february) == [
        {"type": "streak_reversed", "streak": "regular", "length": 3, "order_id": f"O-2-{member}"},
        {"type": "points_revoked", "points": 100, "cause": "streak"},
        {"type": "badge_revoked", "badge": "regular", "level": None},
    ]
    assert games_of(january) == []  # no milestone left for it to take away
    april = api.purchase(member, [MUG], occurred_at="2026-04-10T10:00:00+00:00")
    assert games_of(april) == [{"type": "streak_extended", "streak": "regular", "length": 2}]
    with Session(engine) as session:
        assert verify(session, api.program_id).problems == []


def test_a_refund_of_an_order_that_counted_for_nothing_changes_nothing(
    make_program: ProgramMaker, clock: Clock
) -> None:
    api, member = explorer_completed(make_program, clock)
    before: dict[str, Any] = challenge(api, member, "explorer")
    early = api.purchase(member, [BEANS], order_id=f"O-0-{member}", occurred_at="2026-05-20T10:00:00+00:00")
    refund = api.refund(member, f"O-0-{member}", occurred_at="2026-06-05T10:00:00+00:00", amount="10.00")
    assert games_of(early) == games_of(refund) == []
    assert challenge(api, member, "explorer") == before


def test_a_completing_order_refunded_in_parts_reverses_the_completion_once_with_its_last_part(
    make_program: ProgramMaker, clock: Clock, engine: Engine
) -> None:
    # Given explorer completed by three orders, the mug's among them (12.00)
    api, member = explorer_completed(make_program, clock)
    order = f"O-M-{member}"
    # When half of the mug's order is refunded inside the return window
    half = api.refund(member, order, occurred_at="2026-06-10T12:00:00+00:00", amount="6.00")
    # Then the order still counts (a category counts until its order is refunded whole): the completion stands
    assert games_of(half) == []
    assert challenge(api, member, "explorer")["status"] == "completed"
    # When the rest of it is refunded, and that refund is sent again
    body = {
        "id": api.next_id("refund"),
        "type": "refund",
        "member_external_id": member,
        "occurred_at": "2026-06-11T12:00:00+00:00",
        "order_id": order,
        "currency": "EUR",
        "amount": "6.00",
    }
    rest = api.post("/api/v1/events", body)
    again = api.post("/api/v1/events", body)
    # Then the completion was reversed once: its 150 points, its badge, the progress back to 2 of 3
    assert rest.status_code == 201, rest.text
    assert games_of(rest.json()) == [
        {"type": "challenge_reversed", "challenge": "explorer", "order_id": order},
        {"type": "points_revoked", "points": 150, "cause": "challenge"},
        {"type": "badge_revoked", "badge": "explorer", "level": None},
        {"type": "challenge_progressed", "challenge": "explorer", "current": 2, "target": 3},
    ]
    assert (again.status_code, again.json()) == (200, rest.json())
    shown = challenge(api, member, "explorer")
    assert (shown["status"], shown["progress"]) == ("joined", {"current": 2, "target": 3})
    assert badges(api, member)["explorer"]["earned"] is False
    with Session(engine) as session:
        assert verify(session, api.program_id).problems == []


def test_an_order_whose_gift_card_is_kept_still_counts_when_its_other_lines_are_refunded(
    make_program: ProgramMaker, clock: Clock
) -> None:
    # Given a challenge of three orders a month, and an order of a cake and a gift card (which earns no points)
    three = {"code": "three", "name": "Three orders", "goal": {"count": 3}, "window": {"every": "month"}}
    api = make_program(with_games({**three, "prize": {"points": 10}}, streaks=[]))
    clock.set("2026-06-20T09:00:00+00:00")
    member = api.member(enrolled_at="2026-05-01T09:00:00+00:00")
    order = f"O-1-{member}"
    api.purchase(
        member, [CAKE, line("GIFT", "gift-cards", "25.00")], order_id=order, occurred_at="2026-06-02T10:00:00+00:00"
    )
    # When the cake is refunded and the gift card kept
    refund = api.refund(
        member, order, occurred_at="2026-06-04T10:00:00+00:00", refund_lines=[{"sku": "CAKE", "quantity": 1}]
    )
    # Then the order still counts: it was not refunded whole
    assert games_of(refund) == []
    assert challenge(api, member, "three")["progress"] == {"current": 1, "target": 3}
