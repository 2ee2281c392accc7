"""Redeeming a reward: spend the points and issue a single-use coupon, exactly once per Idempotency-Key; and gifts:
a reward's coupon a mechanic gives without points (``gift``), and takes back while unused (``take_back_gift``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from punchcard.coupon import service as coupons
from punchcard.kit.calendar import end_of_local_day_after
from punchcard.kit.errors import IdempotencyConflict, PunchcardError
from punchcard.ledger import posting as ledger
from punchcard.ledger.account import open_account
from punchcard.ledger.domain import EntryKind
from punchcard.ledger.errors import InsufficientPoints
from punchcard.member import service as members
from punchcard.member.service import Member
from punchcard.outbox import service as outbox
from punchcard.reward.domain import Lock, Obstacle, Reward, RewardGifted, RewardRedeemed, obstacle
from punchcard.reward.errors import OfferLocked, RewardLimitReached, RewardNotAvailable, RewardNotFound, TierTooLow
from punchcard.reward.models import Redemption
from punchcard.tier.domain import TierPolicy

_OBSTACLE_ERRORS: dict[Obstacle, type[PunchcardError]] = {
    Obstacle.REWARD_NOT_AVAILABLE: RewardNotAvailable,
    Obstacle.OFFER_LOCKED: OfferLocked,
    Obstacle.TIER_TOO_LOW: TierTooLow,
    Obstacle.REWARD_LIMIT_REACHED: RewardLimitReached,
    Obstacle.INSUFFICIENT_POINTS: InsufficientPoints,
}


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]


GIFT = "gift:"
"""The idempotency keys of gifts start so; a member's own keys are theirs to choose, so ``gift`` rows are told apart
by ``points_spent = 0`` (every reward costs points) and their key only makes a gift once per operation."""


def redeemed_count(session: Session, member_id: int, reward_code: str) -> int:
    """How often the member redeemed ``reward_code`` with points (a reward's ``limit_per_member``): gifts do not
    count, or a birthday coupon would use up the member's own right to redeem."""
    return int(
        session.execute(
            select(func.count()).where(
                Redemption.member_id == member_id, Redemption.reward_code == reward_code, Redemption.points_spent > 0
            )
        ).scalar_one()
    )


def obstacle_for(
    session: Session,
    tiers: TierPolicy | None,
    member: Member,
    reward: Reward,
    now: datetime,
    available_points: int,
    lock: Lock | None = None,
) -> Obstacle | None:
    """The first reason ``member`` cannot redeem ``reward`` now (shared by the redemption and the catalogue view);
    ``lock``: an offer holds the reward back from them (``offer.http.lock``)."""
    tier_rank = tiers.rank(member.tier_code) if tiers else 0
    min_rank = tiers.rank(reward.min_tier) if tiers and reward.min_tier else 0
    return obstacle(
        reward,
        now=now,
        tier_rank=tier_rank,
        min_tier_rank=min_rank,
        redeemed_count=redeemed_count(session, member.id, reward.code),
        available_points=available_points,
        lock=lock,
    )


def _find(session: Session, member_id: int, program_id: int, key: str) -> Redemption | None:
    return session.execute(
        select(Redemption).where(
            Redemption.program_id == program_id, Redemption.member_id == member_id, Redemption.idempotency_key == key
        )
    ).scalar_one_or_none()


def _replay(found: Redemption, digest: str) -> Outcome:
    if found.request_hash != digest:
        raise IdempotencyConflict("this Idempotency-Key was already used with a different request")
    return Outcome(200, found.response)


@dataclass(frozen=True)
class Catalogue:
    """The part of a program version that redeeming needs."""

    program_id: int
    version: int
    rewards: tuple[Reward, ...]
    tiers: TierPolicy | None
    zone: ZoneInfo

    def reward(self, code: str) -> Reward:
        found = next((reward for reward in self.rewards if reward.code == code), None)
        if found is None:
            raise RewardNotFound(f"no reward with code {code!r}", [{"reward": code}])
        return found


def redeem(
    session: Session,
    catalogue: Catalogue,
    member: Member,
    reward_code: str,
    key: str,
    digest: str,
    now: datetime,
    lock: Lock | None = None,
) -> Outcome:
    """Spend the reward's points (soonest-expiring first) and issue its coupon; a retried key returns the first result.

    Checks run in a fixed order: reward exists, available now, not held back by an offer (``lock``), tier,
    per-member limit, points. Any failure changes nothing.
    """
    found = _find(session, member.id, catalogue.program_id, key)
    if found is not None:
        return _replay(found, digest)
    reward = catalogue.reward(reward_code)
    members.check_active(member)
    members.lock(session, member)
    found = _find(session, member.id, catalogue.program_id, key)
    if found is not None:
        return _replay(found, digest)
    account = open_account(
        session, ledger.Posting(catalogue.program_id, member.id, catalogue.version, now, now), is_locked=True
    )
    available = account.balances().available
    blocked_by = obstacle_for(session, catalogue.tiers, member, reward, now, available, lock)
    if blocked_by is not None:
        detail: dict[str, Any] = {"reward": reward.code, "points_cost": reward.points_cost, "available": available}
        if blocked_by is Obstacle.OFFER_LOCKED and lock is not None:
            detail |= {"locked_reason": lock.reason, "opens_at": lock.opens_at.isoformat() if lock.opens_at else None}
        raise _OBSTACLE_ERRORS[blocked_by](
            f"cannot redeem {reward.code!r}: {blocked_by.value.replace('_', ' ')}", [detail]
        )
    redemption = Redemption(
        program_id=catalogue.program_id,
        member_id=member.id,
        reward_code=reward.code,
        idempotency_key=key,
        request_hash=digest,
        points_spent=reward.points_cost,
        created_at=now,
        response={},
    )
    try:
        with session.begin_nested():
            session.add(redemption)
    except IntegrityError:
        winner = _find(session, member.id, catalogue.program_id, key)
        if winner is None:
            raise
        return _replay(winner, digest)
    spending = account.because(f"redemption:{redemption.id}")
    spending.spend(reward.points_cost, kind=EntryKind.SPEND, description=f"Redeemed {reward.name.default}")
    coupon = coupons.issue(
        session,
        program_id=catalogue.program_id,
        member_id=member.id,
        reward_code=reward.code,
        redemption_id=redemption.id,
        benefit=reward.benefit,
        issued_at=now,
        expires_at=end_of_local_day_after(now, catalogue.zone, days=reward.coupon_valid_days),
    )
    redeemed = RewardRedeemed(
        program_id=catalogue.program_id,
        member_id=member.id,
        occurred_at=now,
        reward=reward.code,
        reward_name=reward.name.default,
        points_spent=reward.points_cost,
        redemption_id=redemption.id,
        coupon_code=coupon.code,
        coupon_expires_at=coupon.expires_at,
    )
    outbox.publish(session, [redeemed], now)
    redemption.response = {
        "redemption_id": redemption.id,
        "reward": reward.code,
        "points_spent": reward.points_cost,
        "coupon": {"code": coupon.code, "expires_at": coupon.expires_at.isoformat()},
        "balance": {"available": available - reward.points_cost},
    }
    session.flush()
    return Outcome(201, redemption.response)


@dataclass(frozen=True)
class Gifted:
    reward: str
    coupon_code: str
    coupon_expires_at: datetime
    event: RewardGifted | None
    """The gift's event; ``None`` when the operation had given it already (nothing new now)."""


def gift(
    session: Session,
    program_id: int,
    member_id: int,
    reward: Reward,
    *,
    zone: ZoneInfo,
    cause: str,
    operation: str,
    now: datetime,
) -> Gifted:
    """Give the member ``reward``'s coupon without spending points, once per ``operation``; publishes
    ``reward.gifted`` (the caller's response may show its ``effects``). A gift is a redemption of no points, so the
    member's coupons, the console and the reports show it like any other; the reward's availability, tier and limit
    are the marketer's for redemptions, not for gifts, and are not checked."""
    members.lock_id(session, member_id)  # first: a concurrent twin of this operation waits, then finds it
    key = GIFT + operation
    found = _find(session, member_id, program_id, key)
    if found is not None:
        coupon = coupons.of_redemption(session, found.id)
        return Gifted(reward.code, coupon.code, coupon.expires_at, None)
    redemption = Redemption(
        program_id=program_id,
        member_id=member_id,
        reward_code=reward.code,
        idempotency_key=key,
        request_hash="",
        points_spent=0,
        created_at=now,
        response={},
    )
    session.add(redemption)
    session.flush()
    coupon = coupons.issue(
        session,
        program_id=program_id,
        member_id=member_id,
        reward_code=reward.code,
        redemption_id=redemption.id,
        benefit=reward.benefit,
        issued_at=now,
        expires_at=end_of_local_day_after(now, zone, days=reward.coupon_valid_days),
    )
    redemption.response = {"reward": reward.code, "coupon": {"code": coupon.code}, "cause": cause}
    gifted = RewardGifted(
        program_id=program_id,
        member_id=member_id,
        occurred_at=now,
        reward=reward.code,
        reward_name=reward.name.default,
        cause=cause,
        redemption_id=redemption.id,
        coupon_code=coupon.code,
        coupon_expires_at=coupon.expires_at,
    )
    outbox.publish(session, [gifted], now)
    return Gifted(reward.code, coupon.code, coupon.expires_at, gifted)


def take_back_gift(session: Session, program_id: int, member_id: int, *, operation: str, now: datetime) -> bool:
    """Revoke the coupon the gift of ``operation`` gave, if it is still unused; ``True`` when it was revoked now. A
    used coupon stays used: the shop already gave the discount, and the member's order is not ours to undo."""
    found = _find(session, member_id, program_id, GIFT + operation)
    if found is None:
        return False
    return coupons.revoke(session, coupons.of_redemption(session, found.id), now)


def reward_codes(session: Session, redemption_ids: list[int]) -> dict[int, str]:
    """The reward each of these redemptions was for, by redemption id."""
    if not redemption_ids:
        return {}
    rows = session.execute(select(Redemption.id, Redemption.reward_code).where(Redemption.id.in_(redemption_ids))).all()
    return {int(row.id): str(row.reward_code) for row in rows}
