"""Points a mechanic gives a member for something other than an event the rules evaluate: answering a survey now,
and the referrals, challenges and birthday gifts to come. One use case, so each mechanic gets the same guarantees.

A grant is a new lot (an ``earn`` movement from the program's issuance account), announced as ``points.earned`` with
the mechanic as its ``cause``. It happens once per ``operation``: the member's lock is taken first, so a concurrent
twin waits and then finds the operation's entries and grants nothing more.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.ledger import service
from punchcard.ledger.account import open_account
from punchcard.ledger.adjustments import Ledger
from punchcard.ledger.domain import Award, EntryKind, PointsEarned
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
