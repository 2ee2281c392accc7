"""Challenges, badges and streaks through the API: joining, progress in event responses, completion with its points,
coupon and badge, recurring periods, custom events, streak milestones and badge levels, what members are shown, and
what an event costs (one read of the member's progress, none for a program without challenges)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event, func, select
from sqlalchemy.orm import Session

from punchcard.challenge.models import BadgeAward, ChallengeProgress
from punchcard.coupon.models import Coupon
from punchcard.ledger.verify import verify
from tests.challenge.games import (
    BEANS,
    CAKE,
    EXPLORER,
    MUG,
    badges,
    challenge,
    games_of,
    join,
    with_games,
)
from tests.conftest import Clock
from tests.factories import ApiClient, ProgramMaker, error_of, line

JUNE_20 = "2026-06-20T09:00:00+00:00"


def explorer_member(api: ApiClient, clock: Clock) -> str:
    """A member who joined ``explorer`` on 1 June at 09:00 UTC; the API's clock then reads 20 June."""
    clock.set("2026-06-01T09:00:00+00:00")
    member = api.member(enrolled_at="2026-05-01T09:00:00+00:00", name="Maria Tamm")
    join(api, member, "explorer")
    clock.set(JUNE_20)
    return member


def test_joining_explorer_then_buying_from_three_categories_completes_it_with_its_points_and_badge(
    make_program: ProgramMaker, clock: Clock
) -> None:
    # Given the demo's explorer challenge, not joined yet
    api = make_program(with_games(streaks=[]))
    clock.set("2026-06-01T09:00:00+00:00")
    member = api.member(enrolled_at="2026-05-01T09:00:00+00:00")
    before = challenge(api, member, "explorer")
    assert (before["status"], before["progress"], before["ends_at"]) == ("available", {"current": 0, "target": 3}, None)
    # When the member buys before joining, then joins and buys from three categories
    early = api.purchase(member, [BEANS], occurred_at="2026-06-01T08:00:00+00:00")
    joined = join(api, member, "explorer")
    clock.set(JUNE_20)
    first = api.purchase(member, [BEANS], occurred_at="2026-06-02T10:00:00+00:00")
    second = api.purchase(member, [MUG, BEANS], occurred_at="2026-06-03T10:00:00+00:00")
    third = api.purchase(member, [CAKE], occurred_at="2026-06-04T10:00:00+00:00")
    # Then the purchase before joining counted nothing; the window runs 30 days after the day of joining
    assert games_of(early) == []
    assert (joined["status"], joined["starts_at"], joined["ends_at"], joined["days_left"]) == (
        "joined",
        "2026-06-01T09:00:00+00:00",
        "2026-07-01T21:00:00+00:00",  # the end of 1 July in Tallinn
        31,
    )
    # And each purchase said how far the member got, the third completed it with 150 points and the badge
    assert games_of(first) == [{"type": "challenge_progressed", "challenge": "explorer", "current": 1, "target": 3}]
    assert games_of(second) == [{"type": "challenge_progressed", "challenge": "explorer", "current": 2, "target": 3}]
    assert games_of(third) == [
        {
            "type": "points_earned",
            "points": 150,
            "rule": "challenge:explorer",
            "rule_name": "Explorer",
            "detail": "challenge completed",
        },
        {
            "type": "challenge_completed",
            "challenge": "explorer",
            "points": 150,
            "reward": None,
            "coupon": None,
            "badge": "explorer",
        },
        {"type": "badge_awarded", "badge": "explorer", "level": "plain"},
    ]
    assert third["balance"]["available"] == second["balance"]["available"] + 4 + 150
    assert api.available(member) == third["balance"]["available"]
    # And the member is shown the challenge completed and the badge earned
    shown = challenge(api, member, "explorer")
    assert (shown["status"], shown["progress"], shown["completed_at"], shown["days_left"]) == (
        "completed",
        {"current": 3, "target": 3},
        "2026-06-04T10:00:00+00:00",
        12,
    )
    assert badges(api, member)["explorer"] == {
        "code": "explorer",
        "name": "Explorer",
        "description": "",
        "earned": True,
        "times": 1,
        "level": "plain",
        "image": "/api/v1/badges/images/star-plain.svg",
        "awarded_at": "2026-06-04T10:00:00+00:00",
        "next_level": None,
    }


def test_a_completed_challenge_gives_nothing_more_and_joining_again_changes_nothing(
    make_program: ProgramMaker, clock: Clock, engine: Engine
) -> None:
    api = make_program(with_games(streaks=[]))
    member = explorer_member(api, clock)
    for day, bought in ((2, BEANS), (3, MUG), (4, CAKE)):
        api.purchase(member, [bought], occurred_at=f"2026-06-0{day}T10:00:00+00:00")
    # When the member buys from a fourth category and joins again
    more = api.purchase(member, [line("GIFT", "gift-cards", "25.00")], occurred_at="2026-06-05T10:00:00+00:00")
    again = join(api, member, "explorer", expect=200)
    # Then nothing more is given, and the challenge stays completed
    assert games_of(more) == []
    assert again["status"] == "completed"
    with Session(engine) as session:
        awards = session.execute(select(func.count()).where(BadgeAward.program_id == api.program_id)).scalar_one()
    assert awards == 1


def test_a_recurring_challenge_is_a_new_challenge_each_month_and_gives_a_coupon(
    make_program: ProgramMaker, clock: Clock, engine: Engine
) -> None:
    # Given a monthly challenge to join: two purchases of coffee beans of at least 10 € each → a free drink
    monthly = {
        "code": "bean-month",
        "name": "Bean month",
        "goal": {"count": 2},
        "lines": {"categories": ["coffee-beans"]},
        "min_order": "10.00",
        "window": {"every": "month"},
        "opt_in": True,
        "prize": {"reward": "free-drink"},
    }
    api = make_program(with_games(monthly, streaks=[]))
    clock.set("2026-06-01T09:00:00+00:00")
    member = api.member(enrolled_at="2026-05-01T09:00:00+00:00")
    join(api, member, "bean-month")
    clock.set("2026-07-20T09:00:00+00:00")
    # When the member buys beans twice in June (and a mug, and too little beans), then once in July
    mug = api.purchase(member, [MUG], occurred_at="2026-06-02T10:00:00+00:00")
    small = api.purchase(member, [line("BEANS", "coffee-beans", "9.99")], occurred_at="2026-06-02T11:00:00+00:00")
    first = api.purchase(member, [BEANS], occurred_at="2026-06-03T10:00:00+00:00")
    second = api.purchase(member, [BEANS], occurred_at="2026-06-30T20:59:00+00:00")  # 23:59 in Tallinn
    july = api.purchase(member, [BEANS], occurred_at="2026-06-30T21:00:00+00:00")  # 00:00 on 1 July in Tallinn
    # Then June's challenge completed with a coupon, and July's began afresh (joined once, for every month)
    assert games_of(mug) == games_of(small) == []
    assert games_of(first) == [{"type": "challenge_progressed", "challenge": "bean-month", "current": 1, "target": 2}]
    [completed] = games_of(second)
    coupon = completed["coupon"]
    assert completed == {
        "type": "challenge_completed",
        "challenge": "bean-month",
        "points": 0,
        "reward": "free-drink",
        "coupon": coupon,
        "badge": None,
    }
    assert games_of(july) == [{"type": "challenge_progressed", "challenge": "bean-month", "current": 1, "target": 2}]
    shown = challenge(api, member, "bean-month")
    assert (shown["period"], shown["status"], shown["progress"]["current"]) == ("2026-07", "joined", 1)
    assert (shown["starts_at"], shown["ends_at"], shown["days_left"]) == (
        "2026-06-30T21:00:00+00:00",
        "2026-07-31T21:00:00+00:00",
        12,
    )
    coupons = api.get(f"/api/v1/members/{member}/coupons").json()["items"]
    assert [(item["code"], item["reward"]) for item in coupons] == [(coupon, "free-drink")]


def test_a_custom_event_challenge_counts_visits_on_distinct_days(make_program: ProgramMaker, clock: Clock) -> None:
    # Given a fixed-date challenge without joining: visit the shop on 3 different days in June
    visits = {
        "code": "june-visits",
        "name": "Come by in June",
        "when": "store_visit",
        "goal": {"days": 3},
        "window": {"from": "2026-06-01", "until": "2026-06-30"},
        "prize": {"points": 30},
    }
    api = make_program(with_games(visits, streaks=[]))
    clock.set(JUNE_20)
    member = api.member(enrolled_at="2026-05-01T09:00:00+00:00")

    def visit(moment: str) -> dict[str, Any]:
        body = {"id": api.next_id("visit"), "type": "store_visit", "member_external_id": member, "occurred_at": moment}
        response = api.post("/api/v1/events", body)
        assert response.status_code == 201, response.text
        return dict(response.json())

    # When the member visits on 31 May, twice on 2 June, and on 5 and 9 June
    may = visit("2026-05-31T20:00:00+00:00")  # 23:00 in Tallinn: still May
    results = [visit(moment) for moment in ("2026-06-02T08:00:00+00:00", "2026-06-02T15:00:00+00:00")]
    results += [visit("2026-06-05T08:00:00+00:00"), visit("2026-06-09T08:00:00+00:00")]
    # Then May's visit and the second of 2 June added nothing; the 5th visit completed it
    assert games_of(may) == []
    assert [[(e["type"], e.get("current")) for e in games_of(result)] for result in results] == [
        [("challenge_progressed", 1)],
        [],
        [("challenge_progressed", 2)],
        [("points_earned", None), ("challenge_completed", None)],
    ]
    assert challenge(api, member, "june-visits")["status"] == "completed"


def test_three_months_in_a_row_earn_the_streak_and_every_three_more_a_higher_level(
    make_program: ProgramMaker, clock: Clock
) -> None:
    # Given the demo's regular streak (a purchase in 3 calendar months in a row: 100 points and its badge, repeating)
    api = make_program(with_games())
    clock.set("2026-12-20T09:00:00+00:00")
    member = api.member(enrolled_at="2026-01-01T09:00:00+00:00")
    # When the member buys every month from January to June, twice in February
    bought = [
        api.purchase(member, [MUG], occurred_at=f"2026-{month:02d}-{day:02d}T10:00:00+00:00")
        for month, day in ((1, 5), (2, 3), (2, 20), (3, 9), (4, 1), (5, 2), (6, 30))
    ]
    streaks = [games_of(response) for response in bought]
    # Then each new month extended the streak; March and June reached a milestone, the badge going up a level
    assert [[(e["type"], e.get("length")) for e in found] for found in streaks] == [
        [("streak_extended", 1)],
        [("streak_extended", 2)],
        [],
        [("points_earned", None), ("streak_extended", 3), ("badge_awarded", None)],
        [("streak_extended", 4)],
        [("streak_extended", 5)],
        [("points_earned", None), ("streak_extended", 6), ("badge_awarded", None)],
    ]
    assert streaks[3][1] == {
        "type": "streak_extended",
        "streak": "regular",
        "length": 3,
        "milestone": True,
        "points": 100,
        "reward": None,
        "coupon": None,
        "badge": "regular",
    }
    assert [found[-1] for found in (streaks[3], streaks[6])] == [
        {"type": "badge_awarded", "badge": "regular", "level": "bronze"},
        {"type": "badge_awarded", "badge": "regular", "level": "silver"},
    ]
    # And in August (July missed) the streak is broken, the best kept; the badge is silver, gold at 4
    clock.set("2026-08-10T09:00:00+00:00")
    [streak] = api.get(f"/api/v1/members/{member}/streaks").json()["items"]
    assert (streak["length"], streak["best"], streak["next_milestone"]) == (0, 6, 3)
    regular = badges(api, member)["regular"]
    assert (regular["times"], regular["level"], regular["image"], regular["next_level"]) == (
        2,
        "silver",
        "/api/v1/badges/images/shield-silver.svg",
        {"level": "gold", "times": 4},
    )
    # And a new run after the break pays its milestone again (a third award: still silver, so no new level)
    clock.set("2026-12-20T09:00:00+00:00")
    later = [
        games_of(api.purchase(member, [MUG], occurred_at=f"2026-{month:02d}-10T10:00:00+00:00")) for month in (8, 9, 10)
    ]
    assert [[(e["type"], e.get("length")) for e in found] for found in later] == [
        [("streak_extended", 1)],
        [("streak_extended", 2)],
        [("points_earned", None), ("streak_extended", 3)],
    ]
    assert badges(api, member)["regular"]["times"] == 3


# --- leaderboards ------------------------------------------------------------------------------------------------


def test_a_leaderboard_shows_only_members_who_opted_in_by_first_name_and_initial(
    make_program: ProgramMaker, clock: Clock
) -> None:
    api = make_program(with_games(streaks=[]))
    players: dict[str, dict[str, Any]] = {}
    for name, categories, shown in (
        ("Maria Tamm", [BEANS, MUG, CAKE], True),
        ("Jaan Kask", [BEANS, MUG], True),
        ("Kadri Mets", [BEANS, MUG, CAKE], False),
        ("Prince", [BEANS], True),
    ):
        member = explorer_member(api, clock)
        api.patch(f"/api/v1/members/{member}", {"name": name})
        for day, bought in enumerate(categories, start=2):
            api.purchase(member, [bought], occurred_at=f"2026-06-{day:02d}T{10 + len(players)}:00:00+00:00")
        if shown:
            response = api.request("PUT", f"/api/v1/members/{member}/leaderboard", {"shown": True})
            assert response.status_code == 200, response.text
            players[name] = response.json()
    assert players["Maria Tamm"] == {"shown": True, "shown_as": "Maria T."}
    board = api.get("/api/v1/leaderboards/explorer")
    assert board.status_code == 200, board.text
    assert board.json() == {
        "challenge": "explorer",
        "name": "Explorer",
        "period": None,
        "target": 3,
        "items": [
            {"rank": 1, "name": "Maria T.", "current": 3, "completed": True},
            {"rank": 2, "name": "Jaan K.", "current": 2, "completed": False},
            {"rank": 3, "name": "Prince", "current": 1, "completed": False},
        ],
    }
    assert api.get("/api/v1/leaderboards/explorer", params={"limit": 1}).json()["items"][0]["name"] == "Maria T."


def test_opting_out_of_leaderboards_takes_the_member_off_them(make_program: ProgramMaker, clock: Clock) -> None:
    api = make_program(with_games(streaks=[]))
    member = explorer_member(api, clock)
    api.purchase(member, [BEANS], occurred_at="2026-06-02T10:00:00+00:00")
    for shown in (True, True, False):
        assert api.request("PUT", f"/api/v1/members/{member}/leaderboard", {"shown": shown}).status_code == 200
    assert api.get(f"/api/v1/members/{member}/leaderboard").json() == {"shown": False, "shown_as": None}
    assert api.get("/api/v1/leaderboards/explorer").json()["items"] == []


# --- refusals ------------------------------------------------------------------------------------------------------


def test_what_cannot_be_joined_or_shown_is_refused(make_program: ProgramMaker, clock: Clock, engine: Engine) -> None:
    may = {**EXPLORER, "code": "may", "window": {"from": "2026-05-01", "until": "2026-05-31"}}
    api = make_program(with_games(EXPLORER, may, streaks=[]))
    clock.set(JUNE_20)
    member = api.member(enrolled_at="2026-05-01T09:00:00+00:00")
    error_of(api.post(f"/api/v1/members/{member}/challenges/nope/join"), 404, "challenge_not_found")
    error_of(api.post(f"/api/v1/members/{member}/challenges/may/join"), 422, "challenge_closed")
    error_of(api.post("/api/v1/members/nobody/challenges/explorer/join"), 404, "member_not_found")
    error_of(api.get("/api/v1/members/nobody/badges"), 404, "member_not_found")
    error_of(api.get("/api/v1/leaderboards/nope"), 404, "challenge_not_found")
    error_of(api.get("/api/v1/leaderboards/explorer", params={"period": "June"}), 422, "validation_error")
    error_of(api.request("PUT", f"/api/v1/members/{member}/leaderboard", {"shown": "maybe"}), 422, "validation_error")
    with Session(engine) as session:
        rows = session.execute(select(func.count()).where(ChallengeProgress.program_id == api.program_id))
        assert rows.scalar_one() == 0
    assert [item["code"] for item in api.get(f"/api/v1/members/{member}/challenges").json()["items"]] == ["explorer"]


def test_badge_images_are_served_without_a_key(make_program: ProgramMaker) -> None:
    api = make_program()
    image = api.client.get("/api/v1/badges/images/star-gold.svg")
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/svg+xml"
    assert "<title>Gold star badge</title>" in image.text
    assert api.client.get("/api/v1/badges/images/..%2Fdomain.py").status_code == 404
    error_of(api.client.get("/api/v1/badges/images/star-platinum.svg"), 404, "not_found")


# --- what an event costs -------------------------------------------------------------------------------------------


@contextmanager
def reads_of_progress(api: ApiClient) -> Iterator[list[str]]:
    """The statements of the API's engine that read ``challenge_progress`` while the block runs."""
    engine = api.client.app.state.sessions.kw["bind"]  # type: ignore[attr-defined]
    found: list[str] = []

    def seen(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM challenge_progress" in statement:
            found.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        yield found
    finally:
        event.remove(engine, "before_cursor_execute", seen)


def test_an_event_reads_the_members_progress_once_and_a_program_without_challenges_not_at_all(
    make_program: ProgramMaker, clock: Clock, engine: Engine
) -> None:
    with_challenges, without = make_program(with_games()), make_program()
    member = explorer_member(with_challenges, clock)
    other = without.member(enrolled_at="2026-05-01T09:00:00+00:00")
    with reads_of_progress(with_challenges) as reads:
        with_challenges.purchase(member, [BEANS], occurred_at="2026-06-02T10:00:00+00:00")
    assert len(reads) == 1
    with reads_of_progress(without) as reads:
        without.purchase(other, [BEANS], occurred_at="2026-06-02T10:00:00+00:00")
    assert reads == []
    with Session(engine) as session:
        assert verify(session, with_challenges.program_id).problems == []
        assert session.execute(select(func.count()).where(Coupon.program_id == without.program_id)).scalar_one() == 0
