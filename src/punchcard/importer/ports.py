"""The mechanics' view of a member in an import: ``mechanics.base.Account`` and ``Standing`` over the batch's
in-memory state (``importer.state``), writing rows instead of statements.

Every mechanic registered for the API's event path runs here unchanged: it reads the member's lots, tier credits
and firings and moves points only through these two objects, whose answers equal the database's (the importer's
tests compare both executors on the same orders).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from punchcard.importer.state import MemberBook, OpenLot, Rows
from punchcard.ledger.domain import Account, EntryKind, PointsBalance, PointsPolicy
from punchcard.ledger.posting import Posting
from punchcard.ledger.service import Credit, tier_credit_entries
from punchcard.member import service as member_service
from punchcard.membership.domain import Plan, Terms
from punchcard.tier.domain import TierChanged, TierPolicy, tier_changed


class Batch(Protocol):
    """What the ports need from the batch (``importer.book.Book``): ids, rows, settling, and firings on demand."""

    rows: Rows
    lot_rows: dict[int, dict[str, Any]]

    def next_lot_id(self) -> int: ...

    def write(self, *transfers: list[dict[str, object]]) -> None: ...

    def settle(self, member: MemberBook, posting: Posting, at: datetime) -> None: ...

    def load_firings(self, member: MemberBook, rule_code: str) -> None: ...


@dataclass
class BookAccount:
    """``mechanics.base.Account`` over one member's book for one operation (already settled at its moment)."""

    book: Batch
    member: MemberBook
    posting: Posting

    def credit(
        self, parts: Sequence[Credit], *, kind: EntryKind, policy: PointsPolicy, zone: ZoneInfo, allow_pending: bool
    ) -> int | None:
        """As ``ledger.service.open_credit`` and ``ledger.account.MemberAccount.credit``: a lot for ``parts``,
        pending inside the return window; available points first repay debt."""
        total = sum(part.points for part in parts)
        if total <= 0:
            return None
        at, member = self.posting.occurred_at, self.member
        available_at = policy.available_at(at, zone) if allow_pending else None
        lot = OpenLot(
            self.book.next_lot_id(), total, policy.expires_at(at, zone), available_at is not None, available_at, True
        )
        row = {
            "id": lot.id,
            "program_id": self.posting.program_id,
            "member_id": member.id,
            "amount": total,
            "remaining": total,
            "earned_at": at,
            "expires_at": lot.expires_at,
            "is_pending": lot.is_pending,
            "available_at": available_at,
        }
        self.book.rows.lots.append(row)
        self.book.lot_rows[lot.id] = row
        member.lots.append(lot)
        account = Account.PENDING_POINTS if lot.is_pending else Account.POINTS
        legs = []
        for part in parts:
            if part.points == 0:
                continue
            fields = {"lot_id": lot.id, "rule_code": part.rule_code, "description": part.description}
            legs.append(self.posting.entry(account, kind, part.points, **fields))
            if part.rule_code is not None and kind is EntryKind.EARN:
                self.book.load_firings(member, part.rule_code)
                member.firings[part.rule_code].append((at, lot.id))
        self.book.write(legs)
        if not lot.is_pending:
            self.book.settle(member, self.posting, at)  # all that can be due now is debt to repay
        return lot.id

    def add_tier_credits(
        self, amount: int, kind: EntryKind, description: str, *, dated: datetime | None = None
    ) -> None:
        posting = replace(self.posting, occurred_at=dated) if dated is not None else self.posting
        if legs := tier_credit_entries(posting, amount, kind, description):
            self.book.write(legs)
            self.member.add_tier_credit(posting.occurred_at, amount)

    def flush(self) -> None:
        """Nothing waits: the rows are written at the end of the batch."""

    def firing_count(self, rule_code: str, since: datetime | None, until: datetime) -> int:
        self.book.load_firings(self.member, rule_code)
        fired = self.member.firings[rule_code]
        return len({lot for moment, lot in fired if moment <= until and (since is None or moment >= since)})

    def tier_credits(self, since: datetime | None, until: datetime) -> int:
        return self.member.window_value(since, until)

    def balance_and_credits(self, since: datetime | None, until: datetime) -> tuple[PointsBalance, int]:
        return self.balance(), self.member.window_value(since, until)

    def balance(self) -> PointsBalance:
        return PointsBalance(self.member.available, self.member.pending)


@dataclass
class BookMember:
    """``mechanics.base.Standing`` over one member's book."""

    rows: Rows
    program_id: int
    member: MemberBook

    @property
    def id(self) -> int:
        return self.member.id

    @property
    def tier_code(self) -> str | None:
        return self.member.tier_code

    @property
    def tier_grace_until(self) -> datetime | None:
        return self.member.tier_grace_until

    def attributes(self, now: datetime, *, with_orders: bool) -> dict[str, object]:
        return member_service.attributes(self.member.profile, now, self.member.order_count if with_orders else None)

    def change_tier(
        self, policy: TierPolicy, to_code: str, reason: str, at: datetime, event_row: int | None
    ) -> TierChanged:
        """As ``tier.service.change``: the change's row, and the member moved."""
        member = self.member
        changed = tier_changed(
            policy,
            program_id=self.program_id,
            member_id=member.id,
            from_tier=member.tier_code,
            to_tier=to_code,
            reason=reason,
            at=at,
        )
        self.rows.tier_changes.append(
            {
                "program_id": self.program_id,
                "member_id": member.id,
                "from_code": member.tier_code,
                "to_code": to_code,
                "reason": reason,
                "changed_at": at,
                "event_id": event_row,
            }
        )
        member.tier_code, member.tier_since, member.tier_grace_until = to_code, at, None
        member.is_changed = True
        return changed

    def end_grace(self) -> None:
        self.member.tier_grace_until = None
        self.member.is_changed = True

    def tier_held_before(self, moment: datetime) -> str | None:
        """Asked only when a refund undoes an upgrade; an import carries purchases only."""
        raise NotImplementedError("an import has no refunds, so no tier to fall back to")

    def plan(self, terms: Terms, now: datetime) -> Plan | None:
        """Past orders earn as if the member had no paid membership: an import carries none (docs/import.md)."""
        return None
