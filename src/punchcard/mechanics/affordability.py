"""The affordability mechanic: when an event's points make the member's available balance reach a reward's cost,
``reward.affordable`` says so (one event per reward), for e-mail and webhooks to tell the member.

It runs after earning and tiers, on events whose points are available at once (not pending in a return window), and
reads the balance the event answers with (the tier mechanic's reading, else ``Account.balance``). Only rewards the
member could redeem now count: offered, available at the event's moment, their tier high enough.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from punchcard.kit.events import DomainEvent
from punchcard.ledger.domain import PointsBalance, PointsEarned
from punchcard.mechanics.base import Turn
from punchcard.mechanics.tiers import BALANCE
from punchcard.program.domain import Program, ProgramVersion
from punchcard.reward.domain import Reward, RewardAffordable, newly_affordable
from punchcard.rules.domain import REFUND, EventFacts


@dataclass(frozen=True)
class Reach:
    before: int
    after: int
    tier_rank: int


def _may_redeem(program: Program, reach: Reach, facts: EventFacts) -> Callable[[Reward], bool]:
    def may(reward: Reward) -> bool:
        tiers, at = program.tiers, facts.occurred_at
        minimum = tiers.rank(reward.min_tier) if tiers is not None and reward.min_tier else 0
        opened = reward.available_from is None or at >= reward.available_from
        not_closed = reward.available_until is None or at < reward.available_until
        return reach.tier_rank >= minimum and opened and not_closed

    return may


class Affordability:
    name = "affordability"

    def section(self, version: ProgramVersion, event_type: str) -> Program | None:
        return version.program if event_type != REFUND and version.program.offered else None

    def load(self, turn: Turn, program: Program) -> Reach | None:
        earned = sum(e.points for e in turn.events if isinstance(e, PointsEarned) and e.pending_until is None)
        if earned <= 0:
            return None
        balance: PointsBalance = turn.notes.get(BALANCE) or turn.account.balance()
        tiers = program.tiers
        rank = tiers.rank(turn.member.tier_code) if tiers is not None else 0
        return Reach(balance.available - earned, balance.available, rank)

    def decide(self, facts: EventFacts, reach: Reach | None, program: Program) -> list[tuple[Reward, int]]:
        if reach is None:
            return []
        may = _may_redeem(program, reach, facts)
        found = newly_affordable(program.offered, reach.before, reach.after, may_redeem=may)
        return [(reward, reach.after) for reward in found]

    def apply(self, turn: Turn, decision: list[tuple[Reward, int]]) -> Sequence[DomainEvent]:
        program = turn.version.program
        return [
            RewardAffordable(
                program_id=turn.program_id,
                member_id=turn.member.id,
                occurred_at=turn.facts.occurred_at,
                reward=reward.code,
                reward_name=reward.name.in_language(program.language),
                cost=reward.points_cost,
                balance=balance,
            )
            for reward, balance in decision
        ]
