"""The rows a batch of imported members writes (``importer.members``), and writing them parents first through the
bulk modules of the features that own the tables, as the order import's ``importer.repository`` does."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.importer.customers import Customer
from punchcard.ledger import bulk as ledger_bulk
from punchcard.member import bulk as member_bulk
from punchcard.member import service as member_service
from punchcard.referral import kept
from punchcard.tier import bulk as tier_bulk


def member_row(program_id: int, member_id: int, customer: Customer, tier: str | None) -> dict[str, Any]:
    """A member the import creates: enrolled when their balance counts from, with no consent recorded (the other
    app's consent is not this shop's to carry over)."""
    return {
        "id": member_id,
        "program_id": program_id,
        "external_id": customer.external_id,
        "email": customer.email,
        "name": customer.name,
        "marketing_consent": False,
        "status": member_service.ACTIVE,
        "enrolled_at": customer.at,
        "tier_code": tier,
        "tier_since": customer.at if tier is not None else None,
        "tier_grace_until": None,
    }


def tier_change(
    program_id: int, member_id: int, from_code: str | None, to_code: str, reason: str, at: datetime
) -> dict[str, Any]:
    """A ``tier_changes`` row: ``import`` for the export's tier, ``enrolment`` for a new member's entry tier."""
    return {
        "program_id": program_id,
        "member_id": member_id,
        "from_code": from_code,
        "to_code": to_code,
        "reason": reason,
        "changed_at": at,
        "event_id": None,
    }


@dataclass
class Writes:
    """A batch's rows, written parents first through the features that own the tables."""

    members: list[dict[str, Any]] = field(default_factory=list)
    lots: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    tier_changes: list[dict[str, Any]] = field(default_factory=list)
    tier_updates: list[dict[str, Any]] = field(default_factory=list)
    codes: dict[int, str] = field(default_factory=dict)

    def write(self, session: Session, program_id: int, now: datetime) -> None:
        member_bulk.insert_members(session, self.members)
        ledger_bulk.insert_lots(session, self.lots)
        ledger_bulk.insert_entries(session, self.entries)
        tier_bulk.insert_changes(session, self.tier_changes)
        member_bulk.update_tiers(session, self.tier_updates)
        kept.keep(session, program_id, self.codes, now)
