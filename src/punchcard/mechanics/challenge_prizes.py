"""What a challenge's completion or a streak's milestone gives, and takes back when a refund reverses it, inside the
event's transaction (``mechanics.challenges``).

Points are a lot of the event's own account (rule ``challenge:<code>`` or ``streak:<code>``), so the event's answer
counts them; a purchase's are pending in the return window, as its own points are, which is also how long the prize
can be reversed. The coupon is ``reward.service.gift`` and the badge ``challenge.service.award_badge``, both once
per ``source`` (``challenge:<code>:<period>:<n>``, ``streak:<code>:<n>``), which also names what to take back.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from punchcard.challenge import service as challenges
from punchcard.challenge.domain import Prize
from punchcard.challenge.progress import Completion
from punchcard.challenge.streaks import Milestone
from punchcard.i18n.text import Text
from punchcard.kit.events import DomainEvent
from punchcard.ledger import service as ledger
from punchcard.ledger.domain import Award, EntryKind, PointsEarned, PointsRevoked
from punchcard.mechanics.base import Turn, live_account
from punchcard.reward import service as rewards
from punchcard.rules.domain import PURCHASE


@dataclass(frozen=True)
class Given:
    points: int = 0
    lot_id: int | None = None
    coupon: str | None = None
    badge: str | None = None
    events: list[DomainEvent] = field(default_factory=list)


def give(turn: Turn, prize: Prize, *, kind: str, code: str, name: Text, source: str) -> Given:
    """Give ``prize`` for ``kind`` (``challenge`` or ``streak``) ``code``; ``source`` makes each part happen once."""
    program, posting, session = turn.version.program, turn.account.posting, turn.session
    events: list[DomainEvent] = []
    lot_id = None
    rule = f"{kind}:{code}"
    if prize.points > 0:
        is_purchase = turn.facts.type == PURCHASE
        detail = "challenge completed" if kind == challenges.CHALLENGE else "streak milestone"
        lot_id = turn.account.credit(
            [ledger.Credit(prize.points, f"{name.default}: {detail}", rule)],
            kind=EntryKind.EARN,
            policy=program.points,
            zone=program.zone,
            allow_pending=is_purchase,
        )
        assert lot_id is not None
        events.append(
            PointsEarned(
                program_id=turn.program_id,
                member_id=turn.member.id,
                occurred_at=posting.occurred_at,
                points=prize.points,
                awards=(Award(prize.points, rule, name.default, detail),),
                lot_id=lot_id,
                pending_until=program.points.available_at(posting.occurred_at, program.zone) if is_purchase else None,
                cause=kind,
                event=turn.event,
                order_id=posting.order_id,
            )
        )
    coupon = None
    reward = program.reward(prize.reward) if prize.reward is not None else None
    if reward is not None:  # the program file checks that it exists
        gifted = rewards.gift(
            session,
            turn.program_id,
            turn.member.id,
            reward,
            zone=program.zone,
            cause=kind,
            operation=source,
            now=turn.now,
        )
        coupon = gifted.coupon_code
    badge = program.badge(prize.badge) if prize.badge is not None else None
    if badge is not None:
        awarded = challenges.award_badge(
            session, turn.program_id, turn.member.id, badge, source=source, cause=rule, at=posting.occurred_at
        )
        events += [awarded] if awarded is not None else []
    return Given(prize.points, lot_id, coupon, badge.code if badge else None, events)


def take_back(
    turn: Turn, given: Completion | Milestone, *, kind: str, code: str, name: Text, source: str
) -> tuple[list[DomainEvent], bool]:
    """Take back what ``source`` gave: its points as the return policy allows (``points.revoked``), its coupon if
    unused, its badge. Returns the events and whether the coupon was revoked."""
    program = turn.version.program
    events: list[DomainEvent] = []
    if given.points > 0:
        taken = live_account(turn).reverse(
            lot_id=given.lot_id,
            due=given.points,
            policy=program.points.return_policy,
            description=f"Taken back: {name.default}",
        )
        events.append(
            PointsRevoked(
                program_id=turn.program_id,
                member_id=turn.member.id,
                occurred_at=turn.facts.occurred_at,
                points=taken,
                cause=kind,
                granted=source,
                not_taken_back=given.points - taken,
            )
        )
    revoked = given.coupon is not None and rewards.take_back_gift(
        turn.session, turn.program_id, turn.member.id, operation=source, now=turn.now
    )
    badge = program.badge(given.badge) if given.badge is not None else None
    if badge is not None:
        taken_badge = challenges.revoke_badge(
            turn.session,
            turn.program_id,
            turn.member.id,
            badge,
            source=source,
            cause=f"{kind}:{code}",
            at=turn.facts.occurred_at,
        )
        events += [taken_badge] if taken_badge is not None else []
    return events, revoked
