"""Writing to the ledger: earning into lots, spending soonest-expiring first, reversing, adjusting, vesting, expiring.

Callers hold the member's row lock (see ``member.repository.lock``) for every per-member operation, so the balance they
check is the balance they change. Nothing here commits; the request, CLI or job boundary does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from punchcard.ledger import repository, settlement
from punchcard.ledger.domain import (
    Account,
    EntryKind,
    PointsPolicy,
    ReturnPolicy,
    Take,
    allowed_reversal,
    consume,
    settle,
)
from punchcard.ledger.errors import InsufficientPoints
from punchcard.ledger.models import LedgerEntry as LedgerEntry
from punchcard.ledger.posting import Posting as Posting
from punchcard.ledger.posting import expired_events, settlement_legs, transfer
from punchcard.ledger.repository import Due as Due
from punchcard.ledger.repository import balance_columns as balance_columns
from punchcard.ledger.repository import balances as balances
from punchcard.ledger.repository import balances_and_credits as balances_and_credits
from punchcard.ledger.repository import balances_from as balances_from
from punchcard.ledger.repository import credits_column as credits_column
from punchcard.ledger.repository import due_columns as due_columns
from punchcard.ledger.repository import due_from as due_from
from punchcard.ledger.repository import expiring as expiring
from punchcard.ledger.repository import expiring_column as expiring_column
from punchcard.ledger.repository import expiring_from as expiring_from
from punchcard.ledger.repository import history as history
from punchcard.ledger.repository import insert_lots as insert_lots
from punchcard.ledger.repository import lot_id_column as lot_id_column
from punchcard.ledger.repository import tier_credits as tier_credits
from punchcard.member import service as members
from punchcard.outbox import service as outbox


@dataclass(frozen=True)
class Credit:
    """One part of a credit to a lot: which rule (if any) gave how many points, and why."""

    points: int
    description: str
    rule_code: str | None = None


_APPEND = insert(
    LedgerEntry
).inline()  # no RETURNING of the new ids: legs may be sent with other writes (kit.db.together)


def write(session: Session, *transfers: Sequence[dict[str, object]]) -> None:
    """Append transfers (the only way entries are ever written): each group of a member's legs becomes one transfer
    with the program's legs that balance it (``ledger.posting.transfer``); all in one multi-row INSERT."""
    legs = [leg for entries in transfers for leg in transfer(entries)]
    if legs:
        session.connection().execute(_APPEND, legs)


@dataclass(frozen=True)
class Opened:
    """A lot ``open_credit`` opened: its id, whether it is pending, the legs that explain it (for the caller to
    write), and, when its id was reserved beforehand, its row, not yet written (the caller writes it before the
    legs)."""

    lot_id: int
    is_pending: bool
    legs: list[dict[str, object]]
    row: dict[str, object] | None = None


def open_credit(
    session: Session,
    posting: Posting,
    parts: Sequence[Credit],
    *,
    kind: EntryKind,
    policy: PointsPolicy,
    zone: ZoneInfo,
    allow_pending: bool,
    reserved_id: int | None = None,
) -> Opened | None:
    """Open a new lot for earned (or granted) points (``None`` when there is nothing to credit). Points inside the
    program's return window go to ``pending_points``. With ``reserved_id`` (an id taken from the lots' sequence in
    the operation's first query) the lot is not inserted here but returned as a row, so that it can be written with
    the operation's other writes. ``ledger.account.MemberAccount.credit`` writes the legs and repays debt."""
    total = sum(part.points for part in parts)
    if total <= 0:
        return None
    available_at = policy.available_at(posting.occurred_at, zone) if allow_pending else None
    row: dict[str, object] = {
        "program_id": posting.program_id,
        "member_id": posting.member_id,
        "amount": total,
        "remaining": total,
        "earned_at": posting.occurred_at,
        "expires_at": policy.expires_at(posting.occurred_at, zone),
        "is_pending": available_at is not None,
        "available_at": available_at,
    }
    lot_id = reserved_id if reserved_id is not None else repository.open_lot(session, **row)
    account = Account.PENDING_POINTS if available_at is not None else Account.POINTS
    earned = [
        posting.entry(account, kind, part.points, lot_id=lot_id, rule_code=part.rule_code, description=part.description)
        for part in parts
        if part.points != 0
    ]
    return Opened(lot_id, available_at is not None, earned, {"id": lot_id, **row} if reserved_id is not None else None)


def _takes(posting: Posting, takes: Sequence[Take], kind: EntryKind, description: str) -> list[dict[str, object]]:
    """The legs that take points from lots (the caller writes them, and ``_take`` the lots)."""
    return [
        posting.entry(Account.POINTS, kind, -take.points, lot_id=take.lot_id, description=description) for take in takes
    ]


def _take(session: Session, takes: Sequence[Take]) -> None:
    for take in takes:
        repository.take_from_lot(session, take.lot_id, take.points)


def spend(session: Session, posting: Posting, points: int, *, kind: EntryKind, description: str) -> int:
    """Spend ``points`` from the member's available lots, soonest expiry first; all or nothing."""
    takes, shortfall = consume(repository.spendable_lots(session, posting.member_id, posting.occurred_at), points)
    if shortfall > 0:
        available = repository.balances(session, posting.member_id).available
        raise InsufficientPoints(
            f"{points} points needed, {available} available",
            [{"needed": points, "available": available}],
        )
    write(session, _takes(posting, takes, kind, description))
    _take(session, takes)
    return points


def repay_debt(session: Session, posting: Posting, *, debt: int | None = None) -> int:
    """Pay the member's debt from available lots: taken from lots, credited to the lot-less debt line, one transfer
    that balances on the member's own account; returns what was repaid. ``debt`` is what the member owes, when the
    caller knows it (under the member's lock)."""
    debt = repository.debt(session, posting.member_id) if debt is None else debt
    if debt <= 0:
        return 0
    takes, shortfall = consume(repository.spendable_lots(session, posting.member_id, posting.occurred_at), debt)
    repaid = debt - shortfall
    if repaid > 0:
        repayment = posting.entry(Account.POINTS, EntryKind.REPAY_DEBT, repaid, description="Debt repaid")
        write(session, [*_takes(posting, takes, EntryKind.REPAY_DEBT, "Paid towards earlier debt"), repayment])
        _take(session, takes)
    return repaid


def reverse(
    session: Session, posting: Posting, *, lot_id: int | None, due: int, policy: ReturnPolicy, description: str
) -> int:
    """Take back ``due`` points an order earned, as far as the return policy allows; returns what was taken.

    The order's own lot is used first (pending or not), then other lots soonest-expiring first, then (``unlimited``)
    debt; all of it one transfer to ``program:reversal``.
    """
    if due <= 0:
        return 0
    lot = repository.lock_lot(session, lot_id) if lot_id is not None else None
    own_pending = lot.remaining if lot is not None and lot.is_pending else 0
    available = repository.balances(session, posting.member_id).available
    from_pending, from_available, as_debt = allowed_reversal(
        due, pending=own_pending, available=available, policy=policy
    )
    legs: list[dict[str, object]] = []
    if from_pending and lot is not None:
        legs.append(
            posting.entry(
                Account.PENDING_POINTS, EntryKind.REVERSE, -from_pending, lot_id=lot.id, description=description
            )
        )
        repository.take_from_lot(session, lot.id, from_pending)
    takes: list[Take] = []
    if from_available:
        lots = repository.spendable_lots(session, posting.member_id, posting.occurred_at)
        takes, _ = consume(lots, from_available, first=lot_id)
        legs += _takes(posting, takes, EntryKind.REVERSE, description)
        from_available = sum(take.points for take in takes)
    if as_debt:
        legs.append(posting.entry(Account.POINTS, EntryKind.REVERSE, -as_debt, description=description))
    write(session, legs)
    _take(session, takes)
    return from_pending + from_available + as_debt


def tier_credit_entries(posting: Posting, amount: int, kind: EntryKind, description: str) -> list[dict[str, object]]:
    """The leg that adds ``amount`` tier credits (none for zero), to write now or with other transfers."""
    return [posting.entry(Account.TIER_CREDITS, kind, amount, description=description)] if amount != 0 else []


# --- scheduled settlement: vesting and expiry, set-wise in bounded batches --------------------------------------------


def vest_batch(
    session: Session,
    posting: Posting,
    *,
    at: datetime,
    limit: int,
    cursor: settlement.Cursor | None = None,
) -> int:
    """Make a batch of pending lots whose return window closed by ``at`` available; returns how many lots moved.

    Written set-wise in the database (``ledger.settlement``). Rows are claimed with ``FOR UPDATE SKIP LOCKED`` on
    PostgreSQL, so two runs at once split the work instead of doing it twice; the ``is_pending`` filter makes a second
    run find nothing. ``cursor`` (program-wide batches) continues after the previous batch's last lot.
    """
    return settlement.vest(session, posting, at=at, limit=limit, cursor=cursor)


def repay_debts_batch(session: Session, posting: Posting, *, limit: int) -> int:
    """Let members in debt whose points just became available pay it back; returns how many paid something.

    Each member's row is locked first (as every per-member operation does), skipping members a request holds: their
    own next operation settles the debt (``settle_member``).
    """
    paid = 0
    for member_id in repository.debtors(session, posting.program_id):
        if paid == limit:
            break
        if members.try_lock(session, member_id) and repay_debt(session, replace(posting, member_id=member_id)) > 0:
            paid += 1
    return paid


def expire_batch(
    session: Session,
    posting: Posting,
    *,
    at: datetime,
    limit: int,
    cursor: settlement.Cursor | None = None,
    within: settlement.IdRange | None = None,
) -> int:
    """Expire a batch of available lots whose expiry is at or before ``at``; returns how many lots expired.

    Each expiry entry is dated at the lot's own expiry, not at the run, so reports put breakage in the right period.
    Written set-wise in the database (``ledger.settlement``), claimed like ``vest_batch``; the nightly job walks the
    program's due lots in ranges of ids (``within``, from ``settlement.expiry_ranges``).
    """
    return settlement.expire(session, posting, at=at, limit=limit, cursor=cursor, within=within)


def members_due(session: Session, program_id: int, at: datetime, *, expiring: bool, limit: int) -> list[int]:
    """Members with lots still due to expire (``expiring``) or to vest at ``at``; see ``settle_skipped``."""
    return settlement.members_due(session, program_id, at, expiring=expiring, limit=limit)


SKIPPED_BATCH = 1000
"""At most this many of one member's lots per transaction of ``settle_skipped``; the job repeats until none is due."""


def settle_skipped(session: Session, posting: Posting, *, at: datetime, member_id: int, expiring: bool) -> int:
    """Expire (``expiring``) or vest a batch of one member's lots due at ``at`` that the program-wide batches skipped
    because another transaction held the member then; returns how many lots.

    This waits for the member's lock as a request does: member first, then its lots, the order every request takes,
    so it never deadlocks with one (the program-wide batches, which lock lots and members in one statement, skip
    instead of waiting). A request that held the member may have settled the lots itself; then nothing is left.
    """
    members.lock_id(session, member_id)
    step = settlement.expire if expiring else settlement.vest
    return step(session, posting, at=at, limit=SKIPPED_BATCH, member_id=member_id)


def settle_member(session: Session, posting: Posting, at: datetime, due: repository.Due | None = None) -> int:
    """Vest, repay debt and expire what is due for one member (whose row the caller has locked) before an operation
    on their balance, as the one settlement rule decides (``ledger.domain.settle``); returns the debt still owed.

    One query finds out whether anything is due (usually not), so settling costs one round trip, or none when the
    caller read ``due`` with the member's lock (``repository.due_columns``); only then are the member's open lots read.
    """
    due = repository.due(session, posting.member_id, at) if due is None else due
    if not due.anything:
        return 0
    plan = settle(repository.open_lots(session, posting.member_id), due.debt, at)
    write(session, *settlement_legs(posting, plan))
    repository.make_available(session, [lot.lot_id for lot in plan.vest])
    for take in [*plan.repay, *(Take(expiry.lot_id, expiry.points) for expiry in plan.expire)]:
        repository.take_from_lot(session, take.lot_id, take.points)
    outbox.publish(session, expired_events(posting, plan), posting.recorded_at)
    return due.debt - plan.repaid


def operation_entries(session: Session, member_id: int, operation: str) -> Sequence[LedgerEntry]:
    return (
        session.execute(
            select(LedgerEntry).where(LedgerEntry.member_id == member_id, LedgerEntry.operation == operation)
        )
        .scalars()
        .all()
    )
