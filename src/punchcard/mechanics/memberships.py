"""The membership mechanic: the membership events of ``POST /api/v1/events`` (``membership_started``,
``membership_renewed``, ``membership_payment_failed``, ``membership_cancelled``; the API's start and the Stripe
adapter record the same events) move the member's membership.

It runs in the event's transaction under the member's lock, so an event told twice (a webhook's retries, ten
concurrent deliveries) is decided once: the event path answers the repeats from the first. Earning rules may also
react to these event types (points for renewing); this mechanic only moves the membership. It is ``live_only``: an
import of past orders carries no memberships.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from punchcard.kit.money import to_minor
from punchcard.mechanics.base import Turn
from punchcard.membership import service as memberships
from punchcard.membership.domain import EVENT_TYPES, Instruction, Membership, MembershipEvent, MembershipRefused
from punchcard.membership.errors import refused
from punchcard.membership.lifecycle import Transition, decide
from punchcard.program.domain import Program, ProgramVersion
from punchcard.rules.domain import EventFacts


@dataclass(frozen=True)
class Known:
    membership: Membership | None
    program: Program


class Memberships:
    name = "memberships"

    def section(self, version: ProgramVersion, event_type: str) -> Program | None:
        return version.program if event_type in EVENT_TYPES else None

    def load(self, turn: Turn, program: Program) -> Known:
        return Known(memberships.current(turn.session, turn.member.id), program)

    def decide(self, facts: EventFacts, known: Known, program: Program) -> Transition:
        paid = to_minor(facts.amount, program.currency) if facts.amount is not None else None
        instruction = Instruction.of(facts.type, facts.occurred_at, facts.attributes, paid)
        try:
            return decide(
                known.membership, program.plans_by_code, instruction, zone=program.zone, currency=program.currency
            )
        except MembershipRefused as refusal:
            raise refused(refusal) from None

    def apply(self, turn: Turn, transition: Transition) -> Sequence[MembershipEvent]:
        return memberships.record(
            turn.session, turn.program_id, turn.version.program.membership_terms, turn.member.id, transition, turn.now
        )
