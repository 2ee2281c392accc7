"""What a change to the program would do, shown before it is saved: what a basket earns now and after, how many
members the next tier review would place differently, and what it does to the points' liability.

Everything is computed by the code that runs the program (the earning evaluation, the tier review's decision, the
liability of the dashboard) on the version in force and on the proposed file, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy.orm import Session

from punchcard.admin.forms import Errors
from punchcard.admin.preview import Basket
from punchcard.analytics import service as analytics
from punchcard.analytics.domain import liability
from punchcard.event import service as events
from punchcard.event.replay import Replay, latest_purchase, replay
from punchcard.member import service as members
from punchcard.member.service import Member
from punchcard.program.domain import Program, ProgramVersion
from punchcard.rules.domain import Evaluation
from punchcard.tier.domain import TierPolicy
from punchcard.tier.review_preview import Moves, moves

REPLAY_DAYS = 30
REPLAY_LIMIT = 500
"""At most this many of the period's latest purchases are evaluated again; the rest are scaled from them."""


@dataclass(frozen=True)
class Earning:
    basket: Basket
    errors: Errors
    member: Member | None = None
    now: Evaluation | None = None
    after: Evaluation | None = None


@dataclass(frozen=True)
class Liability:
    outstanding: int
    point_value_now: Decimal
    point_value_after: Decimal
    replay: Replay | None
    """Recent purchases under both versions; ``None`` when the change cannot change what they earn."""

    @property
    def now(self) -> Decimal:
        return liability(self.outstanding, self.point_value_now)

    @property
    def after(self) -> Decimal:
        return liability(self.outstanding, self.point_value_after)

    @property
    def monthly_points(self) -> tuple[int, int]:
        """Points a month of purchases like the last ``REPLAY_DAYS`` days' would earn, now and after."""
        return (self.replay.scaled(0), self.replay.scaled(1)) if self.replay else (0, 0)

    @property
    def monthly_cost(self) -> tuple[Decimal, Decimal]:
        now, after = self.monthly_points
        return liability(now, self.point_value_now), liability(after, self.point_value_after)


@dataclass(frozen=True)
class Tiers:
    moves: Moves | None
    """``None`` when the change leaves who qualifies for what as it is, or when it cannot be said (``note``)."""
    note: str = ""


@dataclass(frozen=True)
class Impact:
    earning: Earning
    tiers: Tiers
    liability: Liability


def default_basket(session: Session, program_id: int, now: datetime) -> Basket:
    """The program's latest purchase, to try the change on; an empty basket when it has had none."""
    sample = latest_purchase(session, program_id, now)
    if sample is None:
        return Basket(lines=[{"sku": "", "category": "", "quantity": "1", "unit_price": ""}])
    return Basket(member=sample.member, shipping=str(sample.shipping), lines=sample.lines)


def earning(session: Session, current: ProgramVersion, proposed: Program, basket: Basket, now: datetime) -> Earning:
    facts, errors = basket.facts(current.program.currency, now)
    member = members.find(session, current.program_id, basket.member) if basket.member else None
    if basket.member and member is None:
        errors["member"] = f"this program has no member {basket.member!r}"
    if facts is None or errors:
        return Earning(basket, errors)
    return Earning(
        basket,
        errors,
        member,
        events.evaluate_for(session, current.program, member, facts),
        events.evaluate_for(session, proposed, member, facts),
    )


def _shape(policy: TierPolicy | None) -> object:
    """What decides who holds which tier (names, multipliers and perks do not)."""
    if policy is None:
        return None
    return policy.metric, policy.window, policy.grace_days, tuple((tier.code, tier.threshold) for tier in policy.tiers)


def tiers(session: Session, current: ProgramVersion, proposed: Program, now: datetime) -> Tiers:
    before, after = current.program.tiers, proposed.tiers
    if _shape(before) == _shape(after):
        return Tiers(None)
    if before is not None and after is not None and before.metric != after.metric:
        return Tiers(
            None,
            f"Tier credits already earned were counted as {before.metric.value.replace('_', ' ')}; they are not "
            f"counted again as {after.metric.value.replace('_', ' ')}, so who would move cannot be said from them.",
        )
    return Tiers(moves(session, current.program_id, before, after, current.program.zone, now))


def _earns_the_same(before: Program, after: Program) -> bool:
    return before.rules == after.rules and before.rounding == after.rounding and before.tiers == after.tiers


def liability_of(session: Session, current: ProgramVersion, proposed: Program, now: datetime) -> Liability:
    outstanding = analytics.outstanding_points(session, current.program_id, now)
    recent = None
    if not _earns_the_same(current.program, proposed):
        since = now - timedelta(days=REPLAY_DAYS)
        recent = replay(session, current.program_id, (current.program, proposed), since, now, REPLAY_LIMIT)
    return Liability(outstanding, current.program.point_value, proposed.point_value, recent)


def impact(session: Session, current: ProgramVersion, proposed: Program, basket: Basket, now: datetime) -> Impact:
    return Impact(
        earning(session, current, proposed, basket, now),
        tiers(session, current, proposed, now),
        liability_of(session, current, proposed, now),
    )
