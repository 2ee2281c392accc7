"""A member's account for one operation: locked, settled, then moved, in that order, always.

Every operation on a member's points takes the member's row lock (``FOR NO KEY UPDATE``: members first, then their
lots, the one lock order of the whole system, so requests and the nightly jobs cannot deadlock), settles what is due
at the operation's moment (vesting, debt repayment, expiry), and only then credits, spends, reverses or adjusts.
``open_account`` does the first two, so no caller can forget them or do them in another order; the returned
``MemberAccount`` is the only way to move the member's points afterwards.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from punchcard.ledger import repository, service
from punchcard.ledger.domain import Account, Balances, EntryKind, PointsBalance, PointsPolicy, ReturnPolicy
from punchcard.ledger.posting import Posting
from punchcard.member import service as members


@dataclass
class MemberAccount:
    """The member's ledger for one operation, already locked and settled at ``posting.occurred_at``.

    Legs that need not be written at once (earnings with no debt to repay first, tier credits) wait until ``flush``,
    so that everything an event does is one INSERT (docs/performance.md); the caller flushes before it reads
    entries back, and the event path flushes once at its end.
    """

    session: Session
    posting: Posting
    debt: int | None
    """What the member owes after settling; ``None`` once an operation may have changed it (read it again)."""
    queued: list[list[dict[str, object]]] = field(default_factory=list)

    def because(self, operation: str) -> MemberAccount:
        """The same account, its next entries saying what caused them (``redemption:12``), once that is known."""
        return MemberAccount(self.session, replace(self.posting, operation=operation), self.debt, self.queued)

    def credit(
        self,
        parts: Sequence[service.Credit],
        *,
        kind: EntryKind,
        policy: PointsPolicy,
        zone: ZoneInfo,
        allow_pending: bool,
    ) -> int | None:
        """A new lot for ``parts``: pending inside the return window; available points first repay debt. Returns
        the lot's id, ``None`` when there is nothing to credit."""
        lot_id, is_pending, earned = service.open_credit(
            self.session, self.posting, parts, kind=kind, policy=policy, zone=zone, allow_pending=allow_pending
        )
        if lot_id is None:
            return None
        if is_pending or self.debt == 0:
            self.queued.append(earned)  # nothing to repay: written with the operation's other legs
            return lot_id
        self.flush()
        service.write(self.session, earned)
        service.repay_debt(self.session, self.posting, debt=self.debt)
        self.debt = None
        return lot_id

    def spend(self, points: int, *, kind: EntryKind, description: str) -> int:
        self.flush()
        return service.spend(self.session, self.posting, points, kind=kind, description=description)

    def reverse(self, *, lot_id: int | None, due: int, policy: ReturnPolicy, description: str) -> int:
        self.flush()
        taken = service.reverse(
            self.session, self.posting, lot_id=lot_id, due=due, policy=policy, description=description
        )
        self.debt = None
        return taken

    def add_tier_credits(
        self, amount: int, kind: EntryKind, description: str, *, dated: datetime | None = None
    ) -> None:
        """Tier credits (none for zero), written with the operation's other legs; ``dated`` moves them to another
        moment (a refund's reversal is dated at the order, so it leaves the tier window with the credit it cancels)."""
        posting = replace(self.posting, occurred_at=dated) if dated is not None else self.posting
        if legs := service.tier_credit_entries(posting, amount, kind, description):
            self.queued.append(legs)

    def flush(self) -> None:
        """Write what waits, as one INSERT."""
        if self.queued:
            service.write(self.session, *self.queued)
            self.queued.clear()

    def balances(self) -> Balances:
        self.flush()  # the account rows the balances are read from move with the legs
        return repository.balances(self.session, self.posting.member_id)

    # --- reads for the mechanics (``mechanics.base.Account``): what is queued and would change the answer is written
    # first, so a read sees this operation's own legs just as the importer's in-memory book does -----------------

    def firing_count(self, rule_code: str, since: datetime | None, until: datetime) -> int:
        self._flush_if(lambda leg: leg["rule_code"] == rule_code)
        return repository.firing_count(self.session, self.posting.member_id, rule_code, since, until)

    def tier_credits(self, since: datetime | None, until: datetime) -> int:
        self._flush_if(_is_tier_credit)
        return repository.tier_credits(self.session, self.posting.member_id, since, until)

    def balance_and_credits(self, since: datetime | None, until: datetime) -> tuple[PointsBalance, int]:
        """Balances come from the account rows, which move when the queued legs are written."""
        self.flush()
        found, credits = repository.balances_and_credits(self.session, self.posting.member_id, since, until)
        return PointsBalance(found.available, found.pending), credits

    def _flush_if(self, matters: Callable[[dict[str, object]], bool]) -> None:
        if any(matters(leg) for legs in self.queued for leg in legs):
            self.flush()


def _is_tier_credit(leg: dict[str, object]) -> bool:
    return leg["account"] == Account.TIER_CREDITS.value


def open_account(
    session: Session,
    posting: Posting,
    *,
    due: repository.Due | None = None,
    is_locked: bool = False,
    is_new: bool = False,
) -> MemberAccount:
    """Lock ``posting``'s member and settle what is due at ``posting.occurred_at``.

    ``is_locked`` is for a caller that took the member's lock itself (to look for a replay before anything moves);
    ``due`` for one whose own first query also read what is due (the event path does both in one round trip,
    ``event.repository.arrival``); ``is_new`` for a member created in this transaction (locked, nothing due).
    """
    if is_new:
        due = repository.Due.NOTHING
    if not is_locked and due is None:
        members.lock_id(session, posting.member_id)
    debt = service.settle_member(session, posting, at=posting.occurred_at, due=due)
    return MemberAccount(session, posting, debt)


@dataclass(frozen=True)
class Readings:
    """A member's ledger read without a lock, for a preview: what the rules may count, nothing they may move."""

    session: Session
    member_id: int

    def firing_count(self, rule_code: str, since: datetime | None, until: datetime) -> int:
        return repository.firing_count(self.session, self.member_id, rule_code, since, until)
