"""Adjusting a member's points by hand: the one use case behind the API's adjustments and the console's form.

A positive amount is a new lot; a negative one is spent soonest-expiring first and never takes the balance below
zero. With an ``operation`` (the API's ``Idempotency-Key``, the console form's one-time key) the adjustment happens
once: the same operation again is a replay that changes nothing, the same operation with another amount or reason is
``idempotency_conflict``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from punchcard.kit.errors import IdempotencyConflict
from punchcard.ledger import repository, service
from punchcard.ledger.account import open_account
from punchcard.ledger.domain import Balances, EntryKind, PointsAdjusted, PointsPolicy
from punchcard.ledger.posting import Posting
from punchcard.member import service as members
from punchcard.outbox import service as outbox


@dataclass(frozen=True)
class Adjusted:
    points: int
    reason: str
    replayed: bool
    """``True`` when this operation had already been applied (nothing changed now)."""
    balance: Balances


@dataclass(frozen=True)
class Ledger:
    """The part of a program version an adjustment needs."""

    program_id: int
    version: int
    policy: PointsPolicy
    zone: ZoneInfo


def adjust(
    session: Session,
    ledger: Ledger,
    member_id: int,
    points: int,
    reason: str,
    *,
    operation: str | None,
    source: str,
    now: datetime,
) -> Adjusted:
    """Adjust the member's points by ``points`` (``source``: ``api`` or ``console``), once per ``operation``."""
    members.lock_id(session, member_id)  # first: a concurrent twin of this operation waits, then finds it done
    description = f"Adjustment: {reason}"
    if operation is not None:
        done = [e for e in service.operation_entries(session, member_id, operation) if e.kind == EntryKind.ADJUST.value]
        if done:
            if sum(entry.amount for entry in done) != points or any(e.description != description for e in done):
                raise IdempotencyConflict("this Idempotency-Key was already used for a different adjustment")
            return Adjusted(points, reason, True, repository.balances(session, member_id))
    posting = Posting(ledger.program_id, member_id, ledger.version, now, now, operation=operation)
    account = open_account(session, posting, is_locked=True)
    if points > 0:
        parts = [service.Credit(points, description)]
        account.credit(parts, kind=EntryKind.ADJUST, policy=ledger.policy, zone=ledger.zone, allow_pending=False)
    else:
        account.spend(-points, kind=EntryKind.ADJUST, description=description)
    adjusted = PointsAdjusted(
        program_id=ledger.program_id, member_id=member_id, occurred_at=now, points=points, reason=reason, source=source
    )
    account.flush()
    outbox.publish(session, [adjusted], now)
    return Adjusted(points, reason, False, account.balances())
