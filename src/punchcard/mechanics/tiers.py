"""The tier mechanic: a purchase adds tier credits and lifts the member to a higher tier at once when the credits in
the window reach it; a refund takes away an upgrade its order bought. Downgrades otherwise wait for the scheduled
review (``tier.service.review_batch``), with grace.

On a purchase it reads, in one query, the member's balance (the event's answer) and the credits already in the
window (``Account.balance_and_credits``); the decision (``tier.domain.after_earning``) adds this
purchase's credits. A member in the top tier and not in grace cannot rise, so nothing is read for them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from punchcard.kit.money import to_minor
from punchcard.ledger.domain import EntryKind
from punchcard.mechanics.base import Turn
from punchcard.mechanics.earning import NOTE as EARNING
from punchcard.mechanics.earning import Earned
from punchcard.program.domain import ProgramVersion
from punchcard.rules.domain import PURCHASE, REFUND, EventFacts
from punchcard.tier.domain import AfterEarning, TierChanged, TierPolicy, after_earning, after_refund, credits_for

BALANCE = "balance"
"""Where the tier mechanic leaves the balance it read for the event's answer (``ledger.domain.PointsBalance``)."""
CREDITS = "tier_credits"
"""Where the tier mechanic leaves the tier credits a purchase earned (its order keeps them, for refunds)."""
REFUNDED_ORDER_AT = "refunded_order_at"
"""What the event path leaves for a refund: when the refunded order happened."""


@dataclass(frozen=True)
class TierState:
    current: str | None
    grace_until: datetime | None
    value: int | None
    """The credits in the window before this event; ``None`` when earning cannot change the tier (nothing read)."""
    credits: int = 0
    """This purchase's tier credits."""
    held_before: str | None = None
    """For a refund: the tier held before the refunded order."""


@dataclass(frozen=True)
class TierDecision:
    credits: int = 0
    after: AfterEarning = field(default_factory=AfterEarning)
    fall_back_to: str | None = None


def credit_window(version: ProgramVersion, event_type: str, at: datetime) -> tuple[datetime | None, datetime] | None:
    """The window of tier credits a purchase at ``at`` reads (``Tiers.load``); ``None`` when it reads none. The event
    path reads them with the member (``event.repository.arrival``), so that the read costs no round trip of its own."""
    policy = version.program.tiers
    if policy is None or event_type != PURCHASE:
        return None
    return policy.window.start(at, version.program.zone), at


def top_tier(version: ProgramVersion) -> str | None:
    """The tier a member cannot rise from (``TierPolicy.can_rise``): for them the window's credits are not read."""
    policy = version.program.tiers
    return policy.tiers[-1].code if policy is not None else None


class Tiers:
    """Tiers as a mechanic (see the module docstring)."""

    name = "tiers"

    def section(self, version: ProgramVersion, event_type: str) -> TierPolicy | None:
        return version.program.tiers if event_type in (PURCHASE, REFUND) else None

    def load(self, turn: Turn, policy: TierPolicy) -> TierState:
        member, program, at = turn.member, turn.version.program, turn.facts.occurred_at
        if turn.facts.type == REFUND:
            value = turn.account.tier_credits(policy.window.start(at, program.zone), at)  # the reversed credits count
            before = member.tier_held_before(turn.notes[REFUNDED_ORDER_AT])
            return TierState(member.tier_code, member.tier_grace_until, value, held_before=before)
        earned: Earned = turn.notes[EARNING]
        total = to_minor(turn.facts.order_total, program.currency)
        credits = credits_for(policy.metric, points=earned.evaluation.points, order_total_minor=total)
        if not policy.can_rise(member.tier_code, member.tier_grace_until):
            return TierState(member.tier_code, member.tier_grace_until, None, credits)
        window = credit_window(turn.version, PURCHASE, at)
        assert window is not None
        balance, value = turn.account.balance_and_credits(*window)
        turn.notes[BALANCE] = balance
        return TierState(member.tier_code, member.tier_grace_until, value, credits)

    def decide(self, facts: EventFacts, state: TierState, policy: TierPolicy) -> TierDecision:
        if facts.type == REFUND:
            assert state.value is not None
            return TierDecision(fall_back_to=after_refund(policy, state.current, state.value, state.held_before))
        if state.value is None:
            return TierDecision(state.credits)
        return TierDecision(
            state.credits, after_earning(policy, state.current, state.grace_until, state.value + state.credits)
        )

    def apply(self, turn: Turn, decision: TierDecision) -> Sequence[TierChanged]:
        policy = turn.version.program.tiers
        assert policy is not None
        member, at = turn.member, turn.facts.occurred_at
        if turn.facts.type == PURCHASE:
            turn.account.add_tier_credits(decision.credits, EntryKind.EARN, f"Order {turn.account.posting.order_id}")
            turn.notes[CREDITS] = decision.credits
        to_code = decision.fall_back_to or decision.after.upgrade_to
        reason = "refund" if decision.fall_back_to else "upgrade"
        if decision.after.ends_grace:
            member.end_grace()
        if to_code is None:
            return []
        return [member.change_tier(policy, to_code, reason, at, turn.event_row)]
