"""Queries of challenge progress, badge awards and leaderboard opt-ins."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, select, tuple_, update
from sqlalchemy.orm import Session

from punchcard.challenge.models import BadgeAward, ChallengeProgress, LeaderboardOptIn
from punchcard.kit.db import InsertUnlessTaken

Key = tuple[str, str, str]
"""(kind, code, period) of a member's progress row."""

_AWARD = InsertUnlessTaken(BadgeAward, BadgeAward.member_id, BadgeAward.badge, BadgeAward.source)
_OPT_IN = InsertUnlessTaken(LeaderboardOptIn, LeaderboardOptIn.member_id)


def rows(session: Session, member_id: int, keys: Sequence[Key]) -> dict[Key, ChallengeProgress]:
    """The member's rows among ``keys``, in one query."""
    if not keys:
        return {}
    query = select(ChallengeProgress).where(
        ChallengeProgress.member_id == member_id,
        tuple_(ChallengeProgress.kind, ChallengeProgress.code, ChallengeProgress.period).in_(list(keys)),
    )
    return {(row.kind, row.code, row.period): row for row in session.execute(query).scalars()}


def award(session: Session, values: dict[str, object]) -> bool:
    """Record a badge's award unless its source gave it already: whether it was recorded now."""
    return _AWARD(session, values) is not None


def revoke(session: Session, member_id: int, badge: str, source: str, at: datetime) -> bool:
    """Revoke the award of ``badge`` by ``source``: whether one was revoked now."""
    done = session.execute(
        update(BadgeAward)
        .where(
            BadgeAward.member_id == member_id,
            BadgeAward.badge == badge,
            BadgeAward.source == source,
            BadgeAward.revoked_at.is_(None),
        )
        .values(revoked_at=at)
        .execution_options(synchronize_session=False)
    )
    return bool(done.rowcount)  # type: ignore[attr-defined]


def held(session: Session, member_id: int, badge: str | None = None) -> dict[str, tuple[int, datetime]]:
    """How many unrevoked awards of each badge (or of ``badge``) the member holds, and the latest one's moment."""
    query = (
        select(BadgeAward.badge, func.count(), func.max(BadgeAward.awarded_at))
        .where(BadgeAward.member_id == member_id, BadgeAward.revoked_at.is_(None))
        .group_by(BadgeAward.badge)
    )
    if badge is not None:
        query = query.where(BadgeAward.badge == badge)
    return {code: (int(times), last) for code, times, last in session.execute(query)}


def opt_in(session: Session, program_id: int, member_id: int, at: datetime) -> None:
    _OPT_IN(session, {"program_id": program_id, "member_id": member_id, "opted_in_at": at})


def opt_out(session: Session, member_id: int) -> None:
    session.execute(delete(LeaderboardOptIn).where(LeaderboardOptIn.member_id == member_id))


def is_opted_in(session: Session, member_id: int) -> bool:
    found = session.execute(select(LeaderboardOptIn.id).where(LeaderboardOptIn.member_id == member_id))
    return found.first() is not None


def board(session: Session, program_id: int, code: str, period: str, limit: int) -> Sequence[ChallengeProgress]:
    """The rows of a challenge period whose members opted in to leaderboards, best first: furthest, then first to
    complete, then first to start."""
    query = (
        select(ChallengeProgress)
        .join(LeaderboardOptIn, LeaderboardOptIn.member_id == ChallengeProgress.member_id)
        .where(
            ChallengeProgress.program_id == program_id,
            ChallengeProgress.kind == "challenge",
            ChallengeProgress.code == code,
            ChallengeProgress.period == period,
            ChallengeProgress.current > 0,
        )
        .order_by(
            ChallengeProgress.current.desc(),
            ChallengeProgress.completed_at.is_(None),
            ChallengeProgress.completed_at,
            ChallengeProgress.id,
        )
        .limit(limit)
    )
    return session.execute(query).scalars().all()


# --- the console's overview: figures over a program's rows --------------------------------------------------------


def period_counts(session: Session, program_id: int, kind: str, code: str, period: str) -> tuple[int, int, int, int]:
    """Over the rows of one challenge period or streak: rows, rows with a join, rows with progress and not
    completed, and completed rows."""
    where = (
        ChallengeProgress.program_id == program_id,
        ChallengeProgress.kind == kind,
        ChallengeProgress.code == code,
        ChallengeProgress.period == period,
    )
    row = session.execute(
        select(
            func.count(),
            func.count(ChallengeProgress.joined_at),
            func.count().filter(ChallengeProgress.current > 0, ChallengeProgress.completed_at.is_(None)),
            func.count(ChallengeProgress.completed_at),
        ).where(*where)
    ).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def touched_since(
    session: Session, program_id: int, kind: str, code: str, since: datetime, *, open_only: bool
) -> Sequence[ChallengeProgress]:
    """The rows of a challenge (period ``""``) or streak written since ``since`` with some progress (``open_only``:
    and not completed): the only ones whose member's window or run can still be open."""
    query = select(ChallengeProgress).where(
        ChallengeProgress.program_id == program_id,
        ChallengeProgress.kind == kind,
        ChallengeProgress.code == code,
        ChallengeProgress.period == "",
        ChallengeProgress.current > 0,
        ChallengeProgress.updated_at >= since,
    )
    if open_only:
        query = query.where(ChallengeProgress.completed_at.is_(None))
    return session.execute(query).scalars().all()


def milestones_reached(session: Session, program_id: int, code: str) -> int:
    """Members whose streak ``code`` ever reached a milestone (``state.reached``: reversed ones included)."""
    reached = ChallengeProgress.state["reached"].as_integer()
    query = select(func.count()).where(
        ChallengeProgress.program_id == program_id,
        ChallengeProgress.kind == "streak",
        ChallengeProgress.code == code,
        reached > 0,
    )
    return int(session.execute(query).scalar_one())


def holders_by_times(session: Session, program_id: int) -> dict[str, dict[int, int]]:
    """For each badge of the program: how many members hold it how many times (unrevoked awards)."""
    per_member = (
        select(BadgeAward.badge, func.count().label("times"))
        .where(BadgeAward.program_id == program_id, BadgeAward.revoked_at.is_(None))
        .group_by(BadgeAward.badge, BadgeAward.member_id)
        .subquery()
    )
    rows = session.execute(
        select(per_member.c.badge, per_member.c.times, func.count()).group_by(per_member.c.badge, per_member.c.times)
    )
    found: dict[str, dict[int, int]] = {}
    for badge, times, members in rows:
        found.setdefault(str(badge), {})[int(times)] = int(members)
    return found
