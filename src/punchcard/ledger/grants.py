"""Points a mechanic gives a member for something other than an event the rules evaluate (answering a survey, a
referral, a birthday), and takes back when what earned them is undone. One use case, so each mechanic gets the same
guarantees.

A grant is a new lot (an ``earn`` movement from the program's issuance account), announced as ``points.earned`` with
the mechanic as its ``cause``. It happens once per ``operation``: the member's lock is taken first, so a concurrent
twin waits and then finds the operation's entries and grants nothing more. A revocation takes the grant's points back
(its lot first) as the program's return policy allows, announced as ``points.revoked``.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.ledger import service
from punchcard.ledger.account import open_account
from punchcard.ledger.adjustments import Ledger
from punchcard.ledger.domain import Account, Award, EntryKind, PointsEarned, PointsRevoked
from punchcard.ledger.posting import Posting
from punchcard.member import service as members
from punchcard.outbox import service as outbox


def grant(
    session: Session,
    ledger: Ledger,
    member_id: int,
    award: Award,
    *,
    cause: str,
    operation: str,
    now: datetime,
) -> PointsEarned | None:
    """Credit ``award.points`` to the member for ``cause`` (``survey``), once per ``operation``; ``None`` when there
    is nothing to credit or the operation was already granted."""
    if award.points <= 0:
        return None
    members.lock_id(session, member_id)
    if service.operation_entries(session, member_id, operation):
        return None
    posting = Posting(ledger.program_id, member_id, ledger.version, now, now, operation=operation)
    account = open_account(session, posting, is_locked=True)
    parts = [service.Credit(award.points, award.rule_name, award.rule)]
    lot_id = account.credit(parts, kind=EntryKind.EARN, policy=ledger.policy, zone=ledger.zone, allow_pending=False)
    assert lot_id is not None
    account.flush()
    earned = PointsEarned(
        program_id=ledger.program_id,
        member_id=member_id,
        occurred_at=now,
        points=award.points,
        awards=(award,),
        lot_id=lot_id,
        pending_until=None,
        cause=cause,
    )
    outbox.publish(session, [earned], now)
    return earned


def revoke(
    session: Session, ledger: Ledger, member_id: int, *, granted: str, cause: str, now: datetime
) -> PointsRevoked | None:
    """Take back what the grant with operation ``granted`` credited, as the return policy allows; ``None`` when it
    credited nothing or was taken back already.

    Its own entries (operation ``<granted>:revoked``) make a retry do nothing once anything was taken; a revocation
    the return policy forgave entirely writes no entry, so the caller records that it revoked, in its own state under
    the member's lock (a referral's status, a challenge's completion), as the refund path records an order's
    reversal.
    """
    members.lock_id(session, member_id)
    operation = f"{granted}:revoked"
    if service.operation_entries(session, member_id, operation):
        return None
    credited = [
        entry
        for entry in service.operation_entries(session, member_id, granted)
        if entry.kind == EntryKind.EARN.value and entry.account in (Account.POINTS.value, Account.PENDING_POINTS.value)
    ]
    due = sum(entry.amount for entry in credited)
    if due <= 0:
        return None
    posting = Posting(ledger.program_id, member_id, ledger.version, now, now, operation=operation)
    account = open_account(session, posting, is_locked=True)
    description = f"Taken back: {credited[0].description}"
    taken = account.reverse(
        lot_id=credited[0].lot_id, due=due, policy=ledger.policy.return_policy, description=description
    )
    revoked = PointsRevoked(
        program_id=ledger.program_id,
        member_id=member_id,
        occurred_at=now,
        points=taken,
        cause=cause,
        granted=granted,
        not_taken_back=due - taken,
    )
    outbox.publish(session, [revoked], now)
    return revoked
