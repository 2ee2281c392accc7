"""Opening balances: points a member brings over from another loyalty app, written by ``punchcard import members``.

An opening balance is one lot (available at once, expiring by the program's policy from the balance's date) and one
transfer of kind ``import`` from ``program:migration`` (docs/decisions.md, "Importing members from other loyalty
apps"). A balance of 0 is still written, as a single leg of 0 with no lot: the entry is the record that the member's
balance was imported, which is what makes a second run skip them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.kit import bulk
from punchcard.kit.db import is_postgres
from punchcard.ledger.domain import Account, EntryKind, PointsPolicy
from punchcard.ledger.models import LedgerEntry
from punchcard.ledger.posting import Posting, transfer


@dataclass(frozen=True)
class Opening:
    """The rows of one opening balance: its lot (none for 0 points) and its balanced legs."""

    lot: dict[str, Any] | None
    legs: list[dict[str, object]]


def opening(
    posting: Posting, points: int, *, lot_id: int | None, policy: PointsPolicy, zone: ZoneInfo, description: str
) -> Opening:
    """The lot and transfer that open ``points`` (0 or more) at ``posting.occurred_at``; ``lot_id`` is reserved by
    the caller for a positive balance."""
    if points < 0:
        raise ValueError("an opening balance is never negative: the importer refuses those rows")
    if points == 0:
        return Opening(None, transfer([posting.entry(Account.POINTS, EntryKind.IMPORT, 0, description=description)]))
    assert lot_id is not None
    at = posting.occurred_at
    lot = {
        "id": lot_id,
        "program_id": posting.program_id,
        "member_id": posting.member_id,
        "amount": points,
        "remaining": points,
        "earned_at": at,
        "expires_at": policy.expires_at(at, zone),
        "is_pending": False,
        "available_at": None,
    }
    leg = posting.entry(Account.POINTS, EntryKind.IMPORT, points, lot_id=lot_id, description=description)
    return Opening(lot, transfer([leg]))


def imported(session: Session, member_ids: Sequence[int]) -> set[int]:
    """The members among ``member_ids`` whose opening balance was imported already (by any earlier run)."""
    if not member_ids:
        return set()
    if is_postgres(session):
        query = "SELECT DISTINCT member_id FROM ledger_entries WHERE member_id = ANY(%s) AND kind = %s"
        return {row[0] for row in bulk.pg_rows(session, query, (sorted(member_ids), EntryKind.IMPORT.value))}
    found: set[int] = set()
    for chunk in bulk.chunks(sorted(member_ids)):
        members = select(LedgerEntry.member_id).where(
            LedgerEntry.member_id.in_(chunk), LedgerEntry.kind == EntryKind.IMPORT.value
        )
        found.update(member_id for member_id in session.execute(members.distinct()).scalars() if member_id is not None)
    return found
