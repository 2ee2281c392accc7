"""The engagement overview: each challenge, streak and badge of the program as its file defines them, how the
members stand in them now (``challenge.figures``), each challenge's leaderboard as members see it (first
name and initial, only those who opted in), and the birthday and anniversary gifts. Read-only: they are changed in
the program file (the console's program editor)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from fastapi.responses import HTMLResponse

from punchcard.admin import render
from punchcard.admin.frame import Frame
from punchcard.challenge import figures as overview
from punchcard.challenge import service as challenges
from punchcard.challenge.domain import Challenge, GoalKind, Prize, Qualifier, Streak, WindowKind
from punchcard.challenge.figures import BadgeFigures, ChallengeFigures, StreakFigures
from punchcard.challenge.service import Place
from punchcard.kit.money import from_minor
from punchcard.program.domain import Program
from punchcard.rules.domain import PURCHASE

LEADERBOARD_PLACES = 10
BADGE_IMAGES = "/api/v1/badges/images"
"""Where the badges' images are served, public (``challenge.endpoints``, which the console may not import)."""


def _plural(count: int, one: str, many: str) -> str:
    return f"{render.number(count)} {one if count == 1 else many}"


def _event(qualifier: Qualifier) -> tuple[str, str]:
    if qualifier.event_type == PURCHASE:
        return "purchase", "purchases"
    return f"“{qualifier.event_type}” event", f"“{qualifier.event_type}” events"


def amount(minor: int, currency: str) -> str:
    return render.money(from_minor(minor, currency), currency)


def goal(challenge: Challenge, currency: str) -> str:
    target, one_event = challenge.goal.target, _event(challenge.qualifier)
    match challenge.goal.kind:
        case GoalKind.COUNT:
            return _plural(target, *one_event)
        case GoalKind.SPEND:
            return f"spend {amount(target, currency)}"
        case GoalKind.CATEGORIES:
            return _plural(target, "category", "different categories")
        case GoalKind.SKUS:
            return _plural(target, "product (SKU)", "different products (SKUs)")
        case GoalKind.DAYS:
            return f"{_plural(target, 'day', 'different days')} with a {one_event[0]}"
    raise AssertionError(challenge.goal.kind)


def counts(qualifier: Qualifier, currency: str) -> str:
    """Which events count, in words."""
    parts = [_event(qualifier)[1]]
    lines = qualifier.lines
    if lines.categories or lines.skus:
        chosen = [*(f"category {c}" for c in sorted(lines.categories)), *(f"SKU {s}" for s in sorted(lines.skus))]
        parts.append("with a line of " + " or ".join(chosen))
    if lines.exclude_categories or lines.exclude_skus:
        left = [*sorted(lines.exclude_categories), *sorted(lines.exclude_skus)]
        parts.append("not counting " + ", ".join(left))
    if qualifier.min_order_minor:
        parts.append(f"of at least {amount(qualifier.min_order_minor, currency)}")
    return " ".join(parts)


def window(challenge: Challenge, figures: ChallengeFigures) -> str:
    shown = challenge.window
    if shown.kind is WindowKind.FIXED:
        assert shown.first_day is not None
        assert shown.last_day is not None
        return f"{shown.first_day.isoformat()} to {shown.last_day.isoformat()} (both included)"
    if shown.kind is WindowKind.ROLLING:
        start = "joining" if challenge.opt_in else "the member's first qualifying event"
        return f"{_plural(shown.days, 'day', 'days')} from {start}"
    assert shown.every is not None
    return f"each calendar {shown.every.value}, a challenge of its own (now {figures.period})"


def prize(given: Prize) -> str:
    parts = []
    if given.points:
        parts.append(_plural(given.points, "point", "points"))
    if given.reward:
        parts.append(f"a coupon for the reward {given.reward}")
    if given.badge:
        parts.append(f"the badge {given.badge}")
    return ", ".join(parts)


def milestone(streak: Streak) -> str:
    run = _plural(streak.milestone, streak.every.value, f"{streak.every.value}s")
    return f"{run} in a row" + (f", and every further {streak.milestone}" if streak.repeat else "")


@dataclass(frozen=True)
class ChallengeBoard:
    challenge: Challenge
    figures: ChallengeFigures
    goal: str
    counts: str
    window: str
    prize: str
    leaderboard: list[Place]
    is_spend: bool


@dataclass(frozen=True)
class StreakBoard:
    streak: Streak
    figures: StreakFigures
    counts: str
    milestone: str
    prize: str


def boards(frame: Frame, now: datetime) -> tuple[list[ChallengeBoard], list[StreakBoard], list[BadgeFigures]]:
    assert frame.version is not None
    session, program_id = frame.session, frame.version.program_id
    program: Program = frame.version.program
    zone, currency = program.zone, program.currency
    found = []
    for challenge in program.challenges:
        figures = overview.challenge_figures(session, program_id, challenge, zone, now)
        places = challenges.leaderboard(session, program_id, challenge, figures.period, LEADERBOARD_PLACES)
        found.append(
            ChallengeBoard(
                challenge,
                figures,
                goal(challenge, currency),
                counts(challenge.qualifier, currency),
                window(challenge, figures),
                prize(challenge.prize),
                places,
                challenge.goal.kind is GoalKind.SPEND,
            )
        )
    streaks = [
        StreakBoard(
            streak,
            overview.streak_figures(session, program_id, streak, zone, now),
            counts(streak.qualifier, currency),
            milestone(streak),
            prize(streak.prize),
        )
        for streak in program.streaks
    ]
    return found, streaks, overview.badge_figures(session, program_id, program.badges)


def page(frame: Frame, now: datetime) -> HTMLResponse:
    found, streaks, badges = boards(frame, now)
    return frame.page(
        "engagement.html", challenges=found, streaks=streaks, badges=badges, images=BADGE_IMAGES, amount=amount
    )
