"""The console's engagement overview: each challenge, streak and badge as the program defines it, how many members
joined, are under way and completed (each figure as the events made it, rolling windows and broken runs included),
badge holders by level, and leaderboards of opted-in members only; and the referral, challenge, badge, streak,
birthday and anniversary sections going through the console's program editing unchanged, or changed as edited."""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine
from tests.admin.conftest import Console, metric
from tests.clock import NOW
from tests.conftest import Clock
from tests.factories import ApiClient, ProgramMaker, line

from punchcard.kit.db import unit_of_work
from punchcard.program import service as programs
from punchcard.program.domain import Program
from punchcard.staff.domain import Role

BADGES = [
    {"code": "explorer", "name": "Explorer", "shape": "star"},
    {"code": "regular", "name": "Regular", "shape": "shield", "levels": {"bronze": 1, "silver": 2, "gold": 4}},
    {"code": "spender", "name": "Big spender"},
]
CHALLENGES = [
    {
        "code": "explorer",
        "name": "Explorer",
        "goal": {"categories": 3},
        "window": {"days": 30},
        "opt_in": True,
        "prize": {"points": 150, "badge": "explorer"},
    },
    {
        "code": "november",
        "name": "Twice in November",
        "goal": {"count": 2},
        "window": {"from": "2026-11-01", "until": "2026-11-30"},
        "prize": {"points": 30},
    },
    {
        "code": "big-month",
        "name": "Big month",
        "goal": {"spend": "100.00"},
        "lines": {"exclude_categories": ["gift-cards"]},
        "min_order": "5.00",
        "window": {"every": "month"},
        "prize": {"badge": "spender"},
    },
]
STREAKS = [
    {
        "code": "regular",
        "name": "Regular",
        "every": "month",
        "milestone": 3,
        "repeat": True,
        "prize": {"points": 100, "badge": "regular"},
    }
]
GAMES: dict[str, Any] = {"badges": BADGES, "challenges": CHALLENGES, "streaks": STREAKS}
WHEN = NOW.isoformat()


def at(text: str) -> str:
    return f"{text}T10:00:00+00:00"


def join(api: ApiClient, member: str, code: str) -> None:
    response = api.post(f"/api/v1/members/{member}/challenges/{code}/join")
    assert response.status_code == 201, response.text


def shown_on_leaderboards(api: ApiClient, member: str) -> None:
    response = api.request("PUT", f"/api/v1/members/{member}/leaderboard", {"shown": True})
    assert response.status_code == 200, response.text


def section(page: str, code: str) -> str:
    found = re.search(rf'<section class="game"[^>]*data-challenge="{code}">(.*?)</section>', page, re.S)
    assert found is not None, f"no challenge {code} on the page"
    return found.group(1)


def fact(block: str, name: str) -> str:
    found = re.search(rf'data-fact="{name}">(.*?)</dd>', block, re.S)
    assert found is not None, name
    return html.unescape(found.group(1))


def places(block: str) -> list[list[str]]:
    rows = re.findall(r'<tr data-place="\d+">(.*?)</tr>', block, re.S)
    return [[html.unescape(cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)] for row in rows]


@pytest.fixture
def played(make_program: ProgramMaker, clock: Clock) -> ApiClient:
    """Members playing, as of the tests' NOW (25 November 2026):

    - ann joined the explorer challenge and completed it with one order of three categories (35.00);
    - bob joined it, bought beans for 120.00 (one category; the big month completed);
    - cat joined it and bought nothing;
    - dan joined it 40 days ago and bought once then: his 30 days are over;
    - eve did not join it; two orders of 10.00 complete "twice in November";
    - fay bought in September, October and November: the monthly streak's first milestone;
    - gil bought in August only: his run is broken.
    Ann and Bob show on leaderboards; Eve, with progress too, does not.
    """
    api = make_program(GAMES)
    people = [("ann", "Ann Lepp"), ("bob", "Bob Kuusk"), ("cat", "Cat Mets"), ("dan", "Dan Saar")]
    for member, name in [*people, ("eve", "Eve Tamm"), ("fay", "Fay Tamm"), ("gil", "Gil Tamm")]:
        api.member(member, name=name, enrolled_at=at("2026-01-05"))
    for member in ("ann", "bob", "cat"):
        join(api, member, "explorer")
    clock.set(NOW - timedelta(days=40))
    join(api, "dan", "explorer")
    clock.set(NOW)
    api.purchase("dan", [line("BEANS", "coffee-beans", "10.00")], occurred_at=(NOW - timedelta(days=39)).isoformat())
    three = [line("BEANS", "coffee-beans", "20.00"), line("MUG", "mugs", "10.00"), line("TEA", "drinks", "5.00")]
    api.purchase("ann", three, occurred_at=WHEN)
    api.purchase("bob", [line("BEANS", "coffee-beans", "120.00")], occurred_at=WHEN)
    api.purchase("eve", [line("BEANS", "coffee-beans", "10.00")], occurred_at=WHEN)
    api.purchase("eve", [line("MUG", "mugs", "10.00")], occurred_at=WHEN)
    for day in ("2026-09-10", "2026-10-10", "2026-11-10"):
        api.purchase("fay", [line("TEA", "drinks", "5.00")], occurred_at=at(day))
    api.purchase("gil", [line("TEA", "drinks", "5.00")], occurred_at=at("2026-08-05"))
    for member in ("ann", "bob"):
        shown_on_leaderboards(api, member)
    return api


def test_each_challenge_is_described_with_how_members_stand_in_it(
    played: ApiClient, signed_in: Callable[[Role], Console]
) -> None:
    page = signed_in(Role.VIEWER).page(f"/admin/p/{played.slug}/challenges")
    explorer, november, big = (section(page, code) for code in ("explorer", "november", "big-month"))
    assert (fact(explorer, "goal"), fact(explorer, "window"), fact(explorer, "prize")) == (
        "3 different categories",
        "30 days from joining",
        "150 points, the badge explorer",
    )
    assert (fact(november, "goal"), fact(november, "window")) == (
        "2 purchases",
        "2026-11-01 to 2026-11-30 (both included)",
    )
    assert (fact(big, "goal"), fact(big, "window"), fact(big, "prize")) == (
        "spend €100.00",
        "each calendar month, a challenge of its own (now 2026-11)",
        "the badge spender",
    )
    assert "purchases not counting gift-cards of at least €5.00" in big
    figures = {
        code: tuple(metric(page, f"challenge-{code}-{name}") for name in ("joined", "in-progress", "completed"))
        for code in ("explorer", "november", "big-month")
    }
    assert figures == {
        "explorer": ("4", "1", "1"),  # joined: ann, bob, cat, dan; under way: bob (dan's days are over); done: ann
        "november": ("4", "3", "1"),  # taking part: ann, bob, eve, fay; under way: ann, bob, fay; done: eve
        "big-month": ("4", "3", "1"),  # in 2026-11: ann 35, bob 120 (done), eve 20, fay 5
    }
    assert ">Joined</dt>" in explorer
    assert ">Taking part</dt>" in november


def test_leaderboards_show_only_members_who_opted_in_by_first_name_and_initial(
    played: ApiClient, signed_in: Callable[[Role], Console]
) -> None:
    page = signed_in(Role.VIEWER).page(f"/admin/p/{played.slug}/challenges")
    assert places(section(page, "explorer")) == [
        ["1", "Ann L.", "3 of 3", "2026-11-25 14:00 EET"],
        ["2", "Bob K.", "1 of 3", "–"],
    ]
    assert places(section(page, "big-month")) == [
        ["1", "Bob K.", "€120.00 of €100.00", "2026-11-25 14:00 EET"],
        ["2", "Ann L.", "€35.00 of €100.00", "–"],
    ]
    assert "Leaderboard of 2026-11" in section(page, "big-month")
    assert "Eve" not in page
    assert "Lepp" not in page


def test_streaks_and_badges_count_members_as_they_stand_now(
    played: ApiClient, signed_in: Callable[[Role], Console]
) -> None:
    page = signed_in(Role.VIEWER).page(f"/admin/p/{played.slug}/challenges")
    streak = tuple(metric(page, f"streak-regular-{name}") for name in ("taking-part", "running", "reached"))
    # taking part: everyone who bought; running: all but gil (August, then two months missed); a milestone: fay
    assert streak == ("6", "5", "1")
    assert "3 months in a row, and every further 3" in page
    badges = {code: metric(page, f"badge-{code}-holders") for code in ("explorer", "regular", "spender")}
    assert badges == {"explorer": "1", "regular": "1", "spender": "1"}
    levels = dict(re.findall(r'data-metric="badge-regular-(\w+)">\w+: (\d+)<', page))
    assert levels == {"bronze": "1", "silver": "0", "gold": "0"}
    assert re.findall(r'data-metric="badge-explorer-(\w+)">\w+: (\d+)<', page) == [("plain", "1")]
    assert 'src="/api/v1/badges/images/shield-bronze.svg"' in page


def test_the_page_says_what_birthdays_and_anniversaries_give_and_links_to_the_program_file(
    make_program: ProgramMaker, signed_in: Callable[[Role], Console]
) -> None:
    api = make_program({"birthday": {"points": 100, "days_before": 2}, "anniversary": {"points": 50}})
    base = f"/admin/p/{api.slug}"
    page = signed_in(Role.MARKETER).page(f"{base}/challenges")
    text = html.unescape(re.sub(r"\s+", " ", page))
    assert "On each member's birthday (2 days before): 100 points;" in text
    assert "On each anniversary of enrolment: 50 points;" in text
    assert f'<a href="{base}/program/edit#file-heading">edit the program file</a>' in page
    assert f"{base}/program/edit" not in signed_in(Role.VIEWER).page(f"{base}/challenges")


def test_the_engagement_page_is_in_the_navigation_only_when_the_program_has_such_mechanics(
    make_program: ProgramMaker, signed_in: Callable[[Role], Console]
) -> None:
    console = signed_in(Role.VIEWER)
    with_games = make_program(GAMES)
    assert f'<a href="/admin/p/{with_games.slug}/challenges">Engagement</a>' in console.page(
        f"/admin/p/{with_games.slug}/dashboard"
    )
    plain = make_program({"challenges": [], "streaks": [], "badges": [], "birthday": None, "anniversary": None})
    page = console.page(f"/admin/p/{plain.slug}/dashboard")
    assert f"/admin/p/{plain.slug}/challenges" not in page
    empty = console.page(f"/admin/p/{plain.slug}/challenges")
    assert "This program has no challenges." in empty
    assert "This program gives no birthday or anniversary gifts." in empty


# --- editing through the console --------------------------------------------------------------------------------

MECHANICS = ("referrals", "challenges", "badges", "streaks", "birthday", "anniversary")

BARE_WORDS = """
referrals:
  referrer: {points: 200}
  referee: {points: 100}
  qualify: {on: enrolment}
  fraud_checks: {self_referral: reject, velocity: off, signups_from_one_source: off}
birthday: {points: 100, days_before: 1}
anniversary: {points: 50, catch_up_days: 3}
"""
"""Sections as people write them: a bare ``on`` key and ``off`` values, which YAML 1.1 would read as booleans."""


def program_now(engine: Engine, api: ApiClient) -> tuple[int, Program]:
    with unit_of_work(engine) as session:
        version = programs.current(session, api.program_id)
        return version.version, version.program


def source_text(engine: Engine, api: ApiClient) -> str:
    with unit_of_work(engine) as session:
        number = programs.current(session, api.program_id).version
        row = programs.version(session, api.program_id, number)
        assert row is not None
        return row.source_text


@pytest.fixture
def engaged(
    make_program: ProgramMaker, signed_in: Callable[[Role], Console], engine: Engine
) -> tuple[ApiClient, Console]:
    """A program with every engagement section, the referrals and gifts written with bare words, applied as a file
    through the console by a marketer."""
    api = make_program(GAMES)
    console = signed_in(Role.MARKETER)
    kept = re.sub(r"^(referrals|birthday|anniversary):.*?(?=^\S)", "", source_text(engine, api), flags=re.S | re.M)
    applied = console.post(
        f"/admin/p/{api.slug}/program/file", {"source_text": kept + BARE_WORDS, "source_format": "yaml"}
    )
    assert applied.status_code == 303, applied.text
    return api, console


def test_the_engagement_sections_go_through_the_settings_form_unchanged(
    engaged: tuple[ApiClient, Console], engine: Engine
) -> None:
    api, console = engaged
    number, before = program_now(engine, api)
    assert before.referrals is not None
    assert before.referrals.qualifier.value == "enrolment"
    assert before.referrals.checks.velocity.value == "off"
    # When the marketer changes only the program's name in the settings form (the file is written again as YAML)
    form = console.page(f"/admin/p/{api.slug}/program/edit")
    name_input = re.search(r'<input id="f-name-en" name="(name\.en)"', form)
    assert name_input is not None
    response = console.post(f"/admin/p/{api.slug}/program/form", {name_input.group(1): "Renamed"})
    assert response.status_code == 303, response.text
    # Then a new version is in force, with every engagement section as it was
    after_number, after = program_now(engine, api)
    assert (after_number, after.name.default) == (number + 1, "Renamed")
    assert {name: getattr(after, name) for name in MECHANICS} == {name: getattr(before, name) for name in MECHANICS}


def test_the_engagement_sections_go_through_the_program_editor_unchanged(
    engaged: tuple[ApiClient, Console], engine: Engine
) -> None:
    api, console = engaged
    number, before = program_now(engine, api)
    review = console.post(f"/admin/p/{api.slug}/program/editor/rules/0/switch", {"base": str(number)})
    assert review.status_code == 200, review.text
    hidden = dict(re.findall(r'<input type="hidden" name="(base|source_text)" value="([^"]*)">', review.text))
    saved = console.post(
        f"/admin/p/{api.slug}/program/editor/save",
        {"base": hidden["base"], "source_text": html.unescape(hidden["source_text"])},
    )
    assert saved.status_code == 303, saved.text
    after_number, after = program_now(engine, api)
    assert after_number == number + 1
    assert sum(not rule.enabled for rule in after.rules) == sum(not rule.enabled for rule in before.rules) + 1
    assert {name: getattr(after, name) for name in MECHANICS} == {name: getattr(before, name) for name in MECHANICS}


def test_a_challenges_target_edited_in_the_console_applies_as_a_new_version(
    engaged: tuple[ApiClient, Console], engine: Engine, signed_in: Callable[[Role], Console]
) -> None:
    api, console = engaged
    member = api.member("hal")
    join(api, member, "explorer")
    api.purchase(member, [line("BEANS", "coffee-beans", "20.00"), line("MUG", "mugs", "10.00")], occurred_at=WHEN)
    text = source_text(engine, api)
    assert text.count("categories: 3") == 1
    # When the marketer raises the explorer challenge's target from 3 to 4 categories in the program file
    edited = console.post(
        f"/admin/p/{api.slug}/program/file",
        {"source_text": text.replace("categories: 3", "categories: 4"), "source_format": "yaml", "note": "harder"},
    )
    assert edited.status_code == 303, edited.text
    # Then the new version is in force: the overview and the member's progress count towards 4
    page = signed_in(Role.VIEWER).page(f"/admin/p/{api.slug}/challenges")
    assert fact(section(page, "explorer"), "goal") == "4 different categories"
    [explorer] = [c for c in api.get(f"/api/v1/members/{member}/challenges").json()["items"] if c["code"] == "explorer"]
    assert explorer["progress"] == {"current": 2, "target": 4}
    api.purchase(member, [line("TEA", "drinks", "5.00")], occurred_at=WHEN)
    [explorer] = [c for c in api.get(f"/api/v1/members/{member}/challenges").json()["items"] if c["code"] == "explorer"]
    assert (explorer["status"], explorer["progress"]) == ("joined", {"current": 3, "target": 4})
