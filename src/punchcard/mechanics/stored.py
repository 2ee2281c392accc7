"""The member as stored, for the mechanics of the API's event path: ``mechanics.base.Standing`` over the locked
``members`` row, with tier changes recorded by ``tier.service``.

The importer has the other implementation, over its in-memory book (``importer.book``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.member import service as members
from punchcard.member.service import Member
from punchcard.membership import service as memberships
from punchcard.membership.domain import Plan, Terms
from punchcard.tier import service as tiers
from punchcard.tier.domain import TierChanged, TierPolicy


@dataclass
class StoredMember:
    session: Session
    row: Member
    order_count: Callable[[], int]
    """How many orders the member has recorded (the event path keeps orders); a query, so read only if a rule asks."""

    @property
    def id(self) -> int:
        return self.row.id

    @property
    def tier_code(self) -> str | None:
        return self.row.tier_code

    @property
    def tier_grace_until(self) -> datetime | None:
        return self.row.tier_grace_until

    def attributes(self, now: datetime, *, with_orders: bool) -> dict[str, object]:
        return members.attributes(self.row, now, self.order_count() if with_orders else None)

    def change_tier(
        self, policy: TierPolicy, to_code: str, reason: str, at: datetime, event_row: int | None
    ) -> TierChanged:
        return tiers.change(self.session, self.row, policy, to_code, reason, at, event_row)

    def end_grace(self) -> None:
        tiers.end_grace(self.row)

    def tier_held_before(self, moment: datetime) -> str | None:
        return tiers.held_before(self.session, self.row.id, moment)

    def plan(self, terms: Terms, now: datetime) -> Plan | None:
        found = memberships.perks(self.session, terms, self.row.id, now)
        return found[0] if found is not None else None
