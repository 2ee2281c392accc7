"""Paying referrals outside the friend's events, and taking the referrer's reward back: the referrer's side always
(another member's lock inside the friend's event would break the event path's lock order), the friend's when the
referral pays as its order's points vest. Each side once, however often (or however many at once) it runs: both
members and the referral are locked first (``service.lock_pair``), and each side's grant is once per operation."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.kit.calendar import Period, period_start
from punchcard.kit.events import DomainEvent
from punchcard.ledger import grants
from punchcard.ledger.adjustments import Ledger
from punchcard.ledger.domain import Award, PointsEarned
from punchcard.outbox import service as outbox
from punchcard.referral import repository, service
from punchcard.referral.domain import Referrals, Role, Status, referrer_may_earn
from punchcard.referral.service import REWARD_RULE, Referral
from punchcard.reward import service as rewards
from punchcard.reward.domain import Reward


@dataclass(frozen=True)
class Payer:
    """What paying a referral needs of the program version."""

    ledger: Ledger
    rule: Referrals
    rewards: Mapping[str, Reward]


def _give(
    session: Session, payer: Payer, member_id: int, role: Role, referral: Referral, now: datetime
) -> tuple[PointsEarned | None, str | None]:
    gift = payer.rule.gift(role)
    operation = f"referral:{referral.id}:{role.value}"
    award = Award(gift.points, REWARD_RULE, f"Referral ({role.value})", "")
    earned = grants.grant(session, payer.ledger, member_id, award, cause="referral", operation=operation, now=now)
    coupon = None
    if gift.reward is not None:
        reward = payer.rewards[gift.reward]
        coupon = rewards.gift(
            session,
            payer.ledger.program_id,
            member_id,
            reward,
            zone=payer.ledger.zone,
            cause="referral",
            operation=operation,
            now=now,
        ).coupon_code
    return earned, coupon


def pay(session: Session, payer: Payer, referral_id: int, now: datetime) -> list[DomainEvent]:
    """Pay what is due and unpaid of a qualified referral: the friend's side (when it was not paid in their event)
    and the referrer's, within the referrer's caps (over them, the referral is paid with ``capped`` and nothing is
    given). Once per side, however often it runs; publishes ``referral.rewarded`` for each side."""
    program_id = payer.ledger.program_id
    referral = service.lock_pair(session, program_id, referral_id)
    if referral is None or referral.status != Status.QUALIFIED.value or referral.payable_at is None:
        return []
    if referral.payable_at > now:
        return []
    found: list[DomainEvent] = []
    if referral.referee_paid_at is None:
        earned, coupon = _give(session, payer, referral.referee_id, Role.REFEREE, referral, now)
        found.append(
            service.referee_paid(
                referral, earned.points if earned else 0, earned.lot_id if earned else None, coupon, now
            )
        )
    if referral.referrer_paid_at is None:
        month = period_start(now, Period.MONTH, payer.ledger.zone)
        assert month is not None
        this_month, ever = repository.rewarded_counts(session, referral.referrer_id, month)
        referral.referrer_paid_at = now
        if referrer_may_earn(payer.rule, this_month, ever):
            earned, coupon = _give(session, payer, referral.referrer_id, Role.REFERRER, referral, now)
            referral.referrer_points, referral.referrer_coupon = earned.points if earned else 0, coupon
            found.append(
                service.rewarded(referral, Role.REFERRER, referral.referrer_id, referral.referrer_points, coupon, now)
            )
        else:
            referral.referrer_capped = True
            found.append(service.rewarded(referral, Role.REFERRER, referral.referrer_id, 0, None, now, capped=True))
    referral.status = Status.PAID.value
    session.flush()
    outbox.publish(session, found, now)
    return found


def due(session: Session, program_id: int, at: datetime, limit: int) -> list[int]:
    """Qualified referrals whose payment is due at ``at``, oldest first."""
    return repository.due(session, program_id, at, limit)


def take_back_referrer(session: Session, payer: Payer, referral_id: int, now: datetime) -> list[DomainEvent]:
    """After a full refund of the qualifying order: take back the referrer's reward (points as the return policy
    allows, an unused coupon revoked), once."""
    referral = service.lock_pair(session, payer.ledger.program_id, referral_id)
    if referral is None or referral.status != Status.REVERSED.value or referral.referrer_reversed_at is not None:
        return []
    referral.referrer_reversed_at = now
    if referral.referrer_paid_at is None or referral.referrer_capped:
        return []
    operation = f"referral:{referral.id}:{Role.REFERRER.value}"
    found: list[DomainEvent] = []
    revoked = grants.revoke(session, payer.ledger, referral.referrer_id, granted=operation, cause="referral", now=now)
    if revoked is not None:
        found.append(revoked)
    rewards.take_back_gift(session, payer.ledger.program_id, referral.referrer_id, operation=operation, now=now)
    session.flush()
    return found


def unsettled_reversals(session: Session, program_id: int, limit: int) -> list[int]:
    return repository.unsettled_reversals(session, program_id, limit)
