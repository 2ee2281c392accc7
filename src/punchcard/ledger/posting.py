"""What a group of ledger entries shares: who, when, under which program version and because of what."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from punchcard.ledger.domain import Account, EntryKind


@dataclass(frozen=True)
class Posting:
    """Who and what a group of entries belongs to; every entry of one operation shares it."""

    program_id: int
    member_id: int
    program_version: int
    occurred_at: datetime
    recorded_at: datetime
    event_id: int | None = None
    order_id: str | None = None
    operation: str | None = None

    def entry(self, account: Account, kind: EntryKind, amount: int, **fields: object) -> dict[str, object]:
        return {
            "program_id": self.program_id,
            "member_id": self.member_id,
            "account": account.value,
            "kind": kind.value,
            "amount": amount,
            "occurred_at": self.occurred_at,
            "recorded_at": self.recorded_at,
            "program_version": self.program_version,
            "event_id": self.event_id,
            "order_id": self.order_id,
            "operation": self.operation,
            "lot_id": None,
            "rule_code": None,
            "reference_entry_id": None,
            "description": "",
            **fields,
        }
