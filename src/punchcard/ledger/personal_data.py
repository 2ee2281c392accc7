"""What the ledger keeps about a member: their accounts' totals, every leg on them, and their lots. Erasure keeps all
of it, exactly: the program's totals, its liability and ``punchcard ledger verify`` stay right, and the legs carry
amounts, dates and the program's descriptions, which name nobody once the member's row is anonymised. The one change
erasure makes is to a description a person wrote (an adjustment's reason) that names the member: the name goes, the
amounts stay. What the member spent (a reward, a gift to a cause, store credit, a partner brand) is their
activity."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, or_, select
from sqlalchemy.orm import Session

from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows
from punchcard.ledger.domain import EntryKind
from punchcard.ledger.models import LedgerAccount, LedgerEntry, Lot

_CHOSEN = (EntryKind.SPEND, EntryKind.DONATE, EntryKind.CONVERT, EntryKind.EXCHANGE)
"""The kinds of legs a member's own choice makes (earning is an event's, which the event feature counts)."""


def _export(session: Session, subject: Subject) -> Rows:
    member_id = subject.member_id
    accounts = select(LedgerAccount).where(LedgerAccount.member_id == member_id).order_by(LedgerAccount.account)
    entries = select(LedgerEntry).where(LedgerEntry.member_id == member_id).order_by(LedgerEntry.id)
    lots = select(Lot).where(Lot.member_id == member_id).order_by(Lot.id)
    return {
        "ledger_accounts": as_rows(session.execute(accounts).scalars()),
        "ledger_entries": as_rows(session.execute(entries).scalars()),
        "lots": as_rows(session.execute(lots).scalars()),
    }


def _erase(session: Session, erasure: Erasure) -> None:
    """Descriptions of the member's transfers (both sides' legs) that hold one of their personal values, scrubbed.
    The member's own legs are found by their index; the program's legs are read only for the (rare) transfers whose
    description names the member."""
    subject = erasure.subject
    values = [value for value in (subject.external_id, *erasure.values) if value]
    naming = or_(*[LedgerEntry.description.icontains(value, autoescape=True) for value in values])
    own = select(LedgerEntry.transfer_id).where(LedgerEntry.member_id == subject.member_id, naming)
    transfers = set(session.execute(own).scalars())
    if not transfers:
        return
    legs = select(LedgerEntry).where(
        LedgerEntry.program_id == subject.program_id, LedgerEntry.transfer_id.in_(transfers)
    )
    for leg in session.execute(legs).scalars():
        leg.description = str(erasure.scrub(leg.description))
    session.flush()


def _active(member_id: Any, since: datetime) -> ColumnElement[bool]:
    return exists().where(
        LedgerEntry.member_id == member_id,
        LedgerEntry.kind.in_([kind.value for kind in _CHOSEN]),
        LedgerEntry.occurred_at >= since,
    )


PART = Part("ledger", ("ledger_accounts", "ledger_entries", "lots"), _export, _erase, _active)
