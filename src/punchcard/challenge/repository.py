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
