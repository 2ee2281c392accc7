"""The standing-gifts mechanic: a member who asked to give as they earn (``PUT /members/{id}/standing-gift``) gives
after each earning, in the event's own transaction: the share of the points earned, or what takes the available
balance down to a multiple (``cause.domain.StandingGift``). Live only.

Cost on the event path: nothing for programs without causes; for those, one indexed read of the member's standing
gift per earning event.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from punchcard.cause import service as causes
from punchcard.cause.domain import Cause, StandingGift
from punchcard.kit.events import DomainEvent
from punchcard.mechanics import earning
from punchcard.mechanics.base import Turn, live_account
from punchcard.program.domain import ProgramVersion
from punchcard.rules.domain import MEMBER_ENROLLED, REFUND, EventFacts


@dataclass(frozen=True)
class Seen:
    gift: StandingGift | None
    cause: Cause | None
    earned: int
    available: int


class StandingGifts:
    name = "standing_gifts"

    def section(self, version: ProgramVersion, event_type: str) -> ProgramVersion | None:
        if event_type in (REFUND, MEMBER_ENROLLED) or not version.program.causes:
            return None
        return version

    def load(self, turn: Turn, version: ProgramVersion) -> Seen:
        found: earning.Earned | None = turn.notes.get(earning.NOTE)
        earned = found.evaluation.points if found is not None and found.lot_id is not None else 0
        gift = causes.standing(turn.session, turn.member.id) if earned > 0 else None
        if gift is None:
            return Seen(None, None, earned, 0)
        terms = version.cause_terms
        cause = next((cause for cause in terms.causes if cause.code == gift.cause), None)
        open_now = cause is not None and cause.is_open(turn.facts.occurred_at, terms.zone)
        return Seen(gift, cause if open_now else None, earned, turn.account.balance().available)

    def decide(self, facts: EventFacts, seen: Seen, version: ProgramVersion) -> tuple[Cause, int] | None:
        if seen.gift is None or seen.cause is None:
            return None
        points = seen.gift.points_to_give(seen.earned, seen.available)
        return (seen.cause, points) if points > 0 else None

    def apply(self, turn: Turn, decision: tuple[Cause, int] | None) -> Sequence[DomainEvent]:
        if decision is None:
            return []
        cause, points = decision
        event, _ = causes.give(
            turn.session,
            turn.version.cause_terms,
            live_account(turn),
            turn.member.id,
            cause,
            points,
            source="standing",
            key=f"standing:{turn.event}"[:255] if turn.event else None,
            digest=None,
            now=turn.facts.occurred_at,
        )
        return [event]
