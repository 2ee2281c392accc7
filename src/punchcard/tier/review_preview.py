"""What the next tier review would do under another tier policy: the program editor's preview of a change to the
tiers, before it is saved.

Each member is reviewed as the nightly review would (``domain.review``: upgrades at once, downgrades after the
grace) twice, under the policy in force and under the proposed one, and only those the two place differently are
counted, so members a review would move anyway are not put down to the change. Nothing is locked or written.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from punchcard.ledger import reports as ledger_reports
from punchcard.member import bulk as member_bulk
from punchcard.tier.domain import TierPolicy, review

BATCH = 5000


@dataclass(frozen=True)
class Move:
    held: str | None
    """The member's tier now."""
    now: str | None
    """Their tier after the next review under the policy in force (``None``: the program has no tiers)."""
    after: str | None
    """Their tier after the next review under the proposed policy."""
    members: int


@dataclass(frozen=True)
class Moves:
    reviewed: int
    moves: tuple[Move, ...]

    @property
    def moved(self) -> int:
        return sum(move.members for move in self.moves)


def _placed(
    policy: TierPolicy | None, held: str | None, credits: int, grace: datetime | None, at: datetime
) -> str | None:
    return review(policy, held, credits, grace, at).tier.code if policy is not None else None


def _credits(
    session: Session, policy: TierPolicy | None, zone: ZoneInfo, first: int, last: int, at: datetime
) -> dict[int, int]:
    if policy is None:
        return {}
    return ledger_reports.tier_credits_by_member(session, first, last, policy.window.start(at, zone), at)


def moves(
    session: Session,
    program_id: int,
    current: TierPolicy | None,
    proposed: TierPolicy | None,
    zone: ZoneInfo,
    at: datetime,
) -> Moves:
    """The members whose tier after a review at ``at`` would differ under ``proposed``, by where they would go."""
    counted: Counter[tuple[str | None, str | None, str | None]] = Counter()
    after_id, reviewed = 0, 0
    while rows := member_bulk.tier_standings(session, program_id, after_id=after_id, limit=BATCH):
        first, last = int(rows[0].id), int(rows[-1].id)
        credits_now = _credits(session, current, zone, first, last, at)
        same_window = current is not None and proposed is not None and current.window == proposed.window
        credits_after = credits_now if same_window else _credits(session, proposed, zone, first, last, at)
        for member_id, held, grace in rows:
            now = _placed(current, held, credits_now.get(member_id, 0), grace, at)
            after = _placed(proposed, held, credits_after.get(member_id, 0), grace, at)
            if now != after:
                counted[(held, now, after)] += 1
        reviewed += len(rows)
        after_id = last
    found = sorted(counted.items(), key=lambda item: (-item[1], str(item[0])))
    return Moves(reviewed, tuple(Move(*key, members=count) for key, count in found))
