"""What the challenge feature keeps about a member: their progress in challenges and streaks, their badges, and
their agreement to be shown on leaderboards. Erasure withdraws that agreement (an erased member is on no
leaderboard); the progress and badges stay, as the prizes they paid stay in the ledger."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from punchcard.challenge.models import BadgeAward, ChallengeProgress, LeaderboardOptIn
from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows


def _export(session: Session, subject: Subject) -> Rows:
    member_id = subject.member_id
    progress = select(ChallengeProgress).where(ChallengeProgress.member_id == member_id).order_by(ChallengeProgress.id)
    badges = select(BadgeAward).where(BadgeAward.member_id == member_id).order_by(BadgeAward.id)
    opt_ins = select(LeaderboardOptIn).where(LeaderboardOptIn.member_id == member_id)
    return {
        "challenge_progress": as_rows(session.execute(progress).scalars()),
        "badge_awards": as_rows(session.execute(badges).scalars()),
        "leaderboard_opt_ins": as_rows(session.execute(opt_ins).scalars()),
    }


def _erase(session: Session, erasure: Erasure) -> None:
    session.execute(delete(LeaderboardOptIn).where(LeaderboardOptIn.member_id == erasure.subject.member_id))


PART = Part("challenges", ("challenge_progress", "badge_awards", "leaderboard_opt_ins"), _export, _erase)
