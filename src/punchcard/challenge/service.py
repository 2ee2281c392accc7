"""Challenges, badges, streaks and leaderboards for the rest of the application.

The challenges mechanic (``mechanics.challenges``) reads a member's rows for an event in one query (``keys_at``,
``rows``), decides with the pure rules, and writes back through ``save_challenge`` and ``save_streak``, with badges
through ``award_badge`` and ``revoke_badge``; it holds the member's lock, as every writer here does first. Members
join challenges (``join``), opt in to leaderboards (``show_on_leaderboards``), and are shown their challenges,
badges and streaks (``challenges_of``, ``badges_of``, ``streaks_of``) and the leaderboards (``leaderboard``).
Everything takes the definitions it needs; nothing here reads the program.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from punchcard.challenge import repository
from punchcard.challenge.domain import (
    Badge,
    BadgeAwarded,
    BadgeRevoked,
    Challenge,
    ChallengeJoined,
    Finish,
    Span,
    Streak,
    WindowKind,
    days_left,
)
from punchcard.challenge.errors import ChallengeClosed, ChallengeNotFound
from punchcard.challenge.models import ChallengeProgress as ChallengeProgress  # rows cross to the mechanic
from punchcard.challenge.progress import Standing, current
from punchcard.challenge.repository import Key as Key
from punchcard.challenge.state import record_json, record_of, standing_json, standing_of
from punchcard.challenge.streaks import Record, StreakStatus, qualifying, run_of, streak_status
from punchcard.member import service as members
from punchcard.member.domain import shown_name
from punchcard.outbox import service as outbox

CHALLENGE = "challenge"
STREAK = "streak"
IMAGES_URL = "/api/v1/badges/images"
"""Where our badge images are served (``endpoints.badge_image``): the API and the portal show them from there."""


# --- the mechanic's reads and writes ---------------------------------------------------------------------------


def keys_at(challenges: Sequence[Challenge], streaks: Sequence[Streak], at: datetime, zone: ZoneInfo) -> list[Key]:
    """The rows an event at ``at`` may change: each challenge's (its period's, for a recurring one, and the row
    that says when the member joined it, if it must be joined), leaving out fixed windows ``at`` is outside of, and
    each streak's."""
    keys: list[Key] = []
    for challenge in challenges:
        window = challenge.window
        span = window.span(at, zone, None)
        if window.kind is WindowKind.FIXED and span is not None and not span.contains(at):
            continue
        period = window.period(at, zone)
        keys.append((CHALLENGE, challenge.code, period))
        if period and challenge.opt_in:
            keys.append((CHALLENGE, challenge.code, ""))
    return keys + [(STREAK, streak.code, "") for streak in streaks]


def rows(session: Session, member_id: int, keys: Sequence[Key]) -> dict[Key, ChallengeProgress]:
    """The member's rows among ``keys``, in one query; the caller holds the member's lock."""
    return repository.rows(session, member_id, keys)


def standing(row: ChallengeProgress | None) -> Standing:
    return standing_of(row.state if row is not None else None)


def record(row: ChallengeProgress | None) -> Record:
    return record_of(row.state if row is not None else None)


def joined_at(found: dict[Key, ChallengeProgress], challenge: Challenge) -> datetime | None:
    """When the member joined ``challenge``: on its row of period ``""``, which is its only row unless it recurs (a
    recurring challenge is joined once, for all its periods)."""
    row = found.get((CHALLENGE, challenge.code, ""))
    return row.joined_at if row is not None else None


def save_challenge(
    session: Session,
    found: dict[Key, ChallengeProgress],
    program_id: int,
    member_id: int,
    challenge: Challenge,
    period: str,
    after: Standing,
    at: datetime,
) -> None:
    """Write the member's standing in ``challenge``'s ``period`` (a new row, or the one read)."""
    row = _row(session, found, program_id, member_id, (CHALLENGE, challenge.code, period), at)
    row.state = standing_json(after)
    row.current = current(challenge.goal, challenge.qualifier, after.contributions)
    row.completed_at = after.completion.at if after.completion is not None else None


def save_streak(
    session: Session,
    found: dict[Key, ChallengeProgress],
    program_id: int,
    member_id: int,
    streak: Streak,
    after: Record,
    at: datetime,
) -> None:
    row = _row(session, found, program_id, member_id, (STREAK, streak.code, ""), at)
    row.state = record_json(after)
    row.current = len(run_of(qualifying(streak, after.periods), streak.freezes))


def _row(
    session: Session, found: dict[Key, ChallengeProgress], program_id: int, member_id: int, key: Key, at: datetime
) -> ChallengeProgress:
    row = found.get(key)
    if row is None:
        kind, code, period = key
        row = found[key] = ChallengeProgress(
            program_id=program_id, member_id=member_id, kind=kind, code=code, period=period, current=0, state={}
        )
        session.add(row)
    row.updated_at = at
    return row


def award_badge(
    session: Session, program_id: int, member_id: int, badge: Badge, *, source: str, cause: str, at: datetime
) -> BadgeAwarded | None:
    """Record that ``source`` earned ``badge`` (once per source); the event when it is the member's first of it or
    a new level, ``None`` otherwise."""
    values = {"program_id": program_id, "member_id": member_id, "badge": badge.code, "source": source}
    if not repository.award(session, {**values, "awarded_at": at}):
        return None
    times = repository.held(session, member_id, badge.code)[badge.code][0]
    level = badge.level_at(times)
    if level is None or level == badge.level_at(times - 1):
        return None
    return BadgeAwarded(
        program_id=program_id,
        member_id=member_id,
        occurred_at=at,
        badge=badge.code,
        level=level,
        times=times,
        cause=cause,
    )


def revoke_badge(
    session: Session, program_id: int, member_id: int, badge: Badge, *, source: str, cause: str, at: datetime
) -> BadgeRevoked | None:
    """Revoke what ``source`` earned of ``badge``; the event when the member's level of it changed."""
    if not repository.revoke(session, member_id, badge.code, source, at):
        return None
    times = repository.held(session, member_id, badge.code).get(badge.code, (0, at))[0]
    level = badge.level_at(times)
    if level == badge.level_at(times + 1):
        return None
    return BadgeRevoked(
        program_id=program_id,
        member_id=member_id,
        occurred_at=at,
        badge=badge.code,
        level=level,
        times=times,
        cause=cause,
    )


# --- joining --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Joined:
    view: ChallengeView
    is_new: bool
    """``False``: the member had joined it already (or it needs no joining); nothing changed."""


def join(
    session: Session, program_id: int, member: members.Member, challenge: Challenge, zone: ZoneInfo, now: datetime
) -> Joined:
    """Join ``challenge`` for ``member`` at ``now``: a rolling window starts now, a recurring challenge is joined
    for all its periods. Joining again changes nothing. A challenge whose window is over is ``challenge_closed``."""
    members.lock(session, member)
    members.check_active(member)
    found = rows(session, member.id, _keys_now([challenge], zone, now))
    view = _view(found, challenge, zone, now)
    if view.status is not ChallengeStatus.AVAILABLE:
        return Joined(view, is_new=False)
    if view.span is not None and view.span.ends_at <= now:
        raise ChallengeClosed(f"challenge {challenge.code!r} ended at {view.span.ends_at.isoformat()}")
    row = _row(session, found, program_id, member.id, (CHALLENGE, challenge.code, ""), now)
    row.joined_at = now
    started = Standing(started_at=now) if challenge.window.kind is WindowKind.ROLLING else Standing()
    row.state = standing_json(started)
    view = _view(found, challenge, zone, now)
    ends_at = view.span.ends_at if view.span is not None else None
    joined = ChallengeJoined(
        program_id=program_id, member_id=member.id, occurred_at=now, challenge=challenge.code, ends_at=ends_at
    )
    outbox.publish(session, [joined], now)
    return Joined(view, is_new=True)


def challenge_of(challenges: Sequence[Challenge], code: str) -> Challenge:
    found = next((challenge for challenge in challenges if challenge.code == code), None)
    if found is None:
        raise ChallengeNotFound(f"the program has no challenge {code!r}", [{"challenge": code}])
    return found


# --- what members see -----------------------------------------------------------------------------------------


class ChallengeStatus(StrEnum):
    AVAILABLE = "available"
    """It must be joined, and the member has not."""
    JOINED = "joined"
    """Joined, or taking part without joining."""
    COMPLETED = "completed"


@dataclass(frozen=True)
class ChallengeView:
    challenge: Challenge
    status: ChallengeStatus
    period: str
    current: int
    span: Span | None
    """The window that applies to the member now; ``None`` for a rolling one not started."""
    completed_at: datetime | None

    def days_left(self, now: datetime, zone: ZoneInfo) -> int | None:
        """Local days left in the window, today included ("9 days left"); ``None`` without a window yet."""
        return days_left(self.span.ends_at, now, zone) if self.span is not None else None


def challenges_of(
    session: Session, member_id: int, challenges: Sequence[Challenge], zone: ZoneInfo, now: datetime
) -> list[ChallengeView]:
    """The member's challenges at ``now`` (the current period of recurring ones), one query for all: every one
    still open or not begun, and those over that the member completed."""
    found = rows(session, member_id, _keys_now(challenges, zone, now))
    views = [_view(found, challenge, zone, now) for challenge in challenges]
    return [view for view in views if view.completed_at is not None or view.span is None or view.span.ends_at > now]


def _keys_now(challenges: Sequence[Challenge], zone: ZoneInfo, now: datetime) -> list[Key]:
    """Each challenge's row of the period at ``now``, and its row of period ``""`` (when it was joined)."""
    keys = {(CHALLENGE, challenge.code, challenge.window.period(now, zone)) for challenge in challenges}
    return sorted(keys | {(CHALLENGE, challenge.code, "") for challenge in challenges})


def _view(found: dict[Key, ChallengeProgress], challenge: Challenge, zone: ZoneInfo, now: datetime) -> ChallengeView:
    period = challenge.window.period(now, zone)
    standing_now = standing(found.get((CHALLENGE, challenge.code, period)))
    span = challenge.window.span(now, zone, standing_now.started_at)
    done = standing_now.completion
    to_join = challenge.opt_in and joined_at(found, challenge) is None
    status_now = ChallengeStatus.COMPLETED if done else ChallengeStatus.AVAILABLE if to_join else ChallengeStatus.JOINED
    value = current(challenge.goal, challenge.qualifier, standing_now.contributions)
    return ChallengeView(challenge, status_now, period, value, span, done.at if done else None)


@dataclass(frozen=True)
class BadgeView:
    badge: Badge
    times: int
    awarded_at: datetime | None
    """The latest award."""

    @property
    def level(self) -> Finish | None:
        """The level the member holds; ``None`` before it is earned."""
        return self.badge.level_at(self.times)

    @property
    def image_url(self) -> str:
        """The image to show: the level's, or the first level's before it is earned."""
        return f"{IMAGES_URL}/{self.badge.image(self.level)}"

    @property
    def next_level(self) -> tuple[Finish, int] | None:
        """The next level and how many times in all it needs; ``None`` at the top or without levels."""
        return next(((finish, times) for finish, times in self.badge.levels if times > self.times), None)


def badges_of(session: Session, member_id: int, badges: Sequence[Badge]) -> list[BadgeView]:
    """Every badge of the program, with how many times the member holds it (0: not earned)."""
    held = repository.held(session, member_id)
    return [BadgeView(badge, *held.get(badge.code, (0, None))) for badge in badges]


def streaks_of(
    session: Session, member_id: int, streaks: Sequence[Streak], zone: ZoneInfo, now: datetime
) -> list[tuple[Streak, StreakStatus]]:
    found = rows(session, member_id, [(STREAK, streak.code, "") for streak in streaks])
    return [
        (streak, streak_status(streak, record(found.get((STREAK, streak.code, ""))), now, zone)) for streak in streaks
    ]


# --- leaderboards ---------------------------------------------------------------------------------------------


def show_on_leaderboards(session: Session, program_id: int, member: members.Member, shown: bool, at: datetime) -> None:
    """Opt the member in to leaderboards (first name and initial) or out of them; either again changes nothing."""
    members.lock(session, member)
    if shown:
        repository.opt_in(session, program_id, member.id, at)
    else:
        repository.opt_out(session, member.id)


def is_shown_on_leaderboards(session: Session, member_id: int) -> bool:
    return repository.is_opted_in(session, member_id)


@dataclass(frozen=True)
class Place:
    rank: int
    name: str | None
    """First name and initial (``member.domain.shown_name``); ``None`` for a member without a name."""
    current: int
    completed_at: datetime | None


def leaderboard(session: Session, program_id: int, challenge: Challenge, period: str, limit: int) -> list[Place]:
    """The members who opted in, best first (furthest, then first to complete), in ``challenge``'s ``period``."""
    found = repository.board(session, program_id, challenge.code, period, limit)
    names = members.by_ids(session, [row.member_id for row in found])
    return [
        Place(rank, shown_name(names[row.member_id].name), row.current, row.completed_at)
        for rank, row in enumerate(found, start=1)
    ]
