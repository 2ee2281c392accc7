"""Figures about a program's challenges, streaks and badges for the console's overview: how many members joined,
are under way and completed, whose streak is running, and who holds each badge at which level. Read-only; each is
counted in SQL over the program's rows, but for what depends on each member's own dates (a rolling window's end, a
run still alive), which is decided by the pure rules over only the rows that can still be open."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from punchcard.challenge import repository
from punchcard.challenge.domain import Badge, Challenge, Finish, Streak, Window, WindowKind
from punchcard.challenge.service import CHALLENGE, STREAK, record, standing
from punchcard.challenge.streaks import streak_status
from punchcard.kit.calendar import start_of_local_day


@dataclass(frozen=True)
class ChallengeFigures:
    """How the program's members stand in a challenge at a moment (a recurring one: in its current period)."""

    period: str
    joined: int
    """With ``opt_in``: members who joined it. Without: members taking part (an event of theirs counted)."""
    in_progress: int
    """Members with progress who have not completed it, while their window is still open."""
    completed: int


def challenge_figures(
    session: Session, program_id: int, challenge: Challenge, zone: ZoneInfo, now: datetime
) -> ChallengeFigures:
    """``ChallengeFigures`` at ``now``. A rolling window's end is each member's own: only rows written within the
    window's length (and two days) can still be open, since a member's start comes before any write of their row."""
    window = challenge.window
    period = window.period(now, zone)
    rows_found, joins, progressing, completed = repository.period_counts(
        session, program_id, CHALLENGE, challenge.code, period
    )
    if challenge.opt_in and period:
        joins = repository.period_counts(session, program_id, CHALLENGE, challenge.code, "")[1]
    joined = joins if challenge.opt_in else rows_found
    if window.kind is WindowKind.FIXED:
        span = window.span(now, zone, None)
        in_progress = progressing if span is not None and now < span.ends_at else 0
    elif window.kind is WindowKind.ROLLING:
        since = now - timedelta(days=window.days + 2)
        open_rows = repository.touched_since(session, program_id, CHALLENGE, challenge.code, since, open_only=True)
        in_progress = sum(1 for row in open_rows if _still_open(window, standing(row).started_at, zone, now))
    else:
        in_progress = progressing
    return ChallengeFigures(period, joined, in_progress, completed)


def _still_open(window: Window, started_at: datetime | None, zone: ZoneInfo, now: datetime) -> bool:
    span = window.span(now, zone, started_at) if started_at is not None else None
    return span is not None and now < span.ends_at


@dataclass(frozen=True)
class StreakFigures:
    taking_part: int
    """Members with a period counted in the streak, ever."""
    running: int
    """Members whose run is alive now (it can still be extended)."""
    reached: int
    """Members who reached a milestone at least once (a milestone a refund reversed included)."""


def streak_figures(session: Session, program_id: int, streak: Streak, zone: ZoneInfo, now: datetime) -> StreakFigures:
    """``StreakFigures`` at ``now``. A live run's last period is at most ``freezes`` + 1 periods back, and its event
    was recorded after that period began, so only rows written since (one period of slack more) are read to decide
    which runs are alive."""
    taking_part = repository.period_counts(session, program_id, STREAK, streak.code, "")[0]
    this = streak.every.number(streak.every.first_day(now, zone))
    since = start_of_local_day(streak.every.first_day_of(this - 2 - streak.freezes), zone)
    recent = repository.touched_since(session, program_id, STREAK, streak.code, since, open_only=False)
    running = sum(1 for row in recent if streak_status(streak, record(row), now, zone).length > 0)
    return StreakFigures(taking_part, running, repository.milestones_reached(session, program_id, streak.code))


@dataclass(frozen=True)
class BadgeFigures:
    badge: Badge
    holders: int
    """Members holding it at least once (unrevoked)."""
    levels: tuple[tuple[Finish, int], ...]
    """Members at each level (``plain`` for a badge without levels), in order."""
    below_first_level: int
    """Members who earned it fewer times than its first level needs."""


def badge_figures(session: Session, program_id: int, badges: Sequence[Badge]) -> list[BadgeFigures]:
    """Each badge's holders by level, from one grouped query."""
    found = repository.holders_by_times(session, program_id)
    figures = []
    for badge in badges:
        by_times = found.get(badge.code, {})
        shown = [level for level, _ in badge.levels] or [Finish.PLAIN]
        at = dict.fromkeys(shown, 0)
        below = 0
        for times, members_holding in by_times.items():
            level = badge.level_at(times)
            if level is None:
                below += members_holding
            else:
                at[level] += members_holding
        figures.append(BadgeFigures(badge, sum(by_times.values()), tuple(at.items()), below))
    return figures
