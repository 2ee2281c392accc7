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
class Known:
    """The member's balances, and their tier credits in one window, as read with the member's lock before the
    operation moved anything (``event.repository.arrival``), kept current with every leg the account queues. While
    it holds, the reads of the event's answer and of the tier mechanic cost no round trip; an operation that moves
    points any other way (a spend, a reversal, a debt repaid) drops it and reads the account rows again."""

    balances: Balances
    window: tuple[datetime | None, datetime] | None = None
    """The tier-credit window read (since, until); ``None`` when it was not read."""
    credits: int = 0

    def add(self, legs: Sequence[dict[str, object]], *, opened: int = 0) -> None:
        """Count queued ``legs`` (a member's legs; their program counterparts are added when written), and the
        points of a lot they open."""
        available, pending = self.balances.available, self.balances.pending
        for leg in legs:
            account, amount = leg["account"], leg["amount"]
            assert isinstance(amount, int)
            if account == Account.POINTS.value:
                available += amount
            elif account == Account.PENDING_POINTS.value:
                pending += amount
            elif account == Account.TIER_CREDITS.value and self._in_window(leg["occurred_at"]):
                self.credits += amount
        self.balances = replace(
            self.balances,
            available=available,
            pending=pending,
            lifetime_earned=self.balances.lifetime_earned + opened,
        )

    def _in_window(self, moment: object) -> bool:
        if self.window is None:
            return False
        assert isinstance(moment, datetime)
        since, until = self.window
        return (since is None or since <= moment) and moment <= until


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
    known: Known | None = None
    """Balances read before anything moved and kept current (``Known``); ``None``: read the account rows."""
    reserved_lot: int | None = None
    """A lot id reserved by the operation's first query, for the first lot it opens (written with the legs)."""
    lots: list[dict[str, object]] = field(default_factory=list)
    """Lots opened under a reserved id, written by ``flush`` before the legs that name them."""

    def because(self, operation: str) -> MemberAccount:
        """The same account, its next entries saying what caused them (``redemption:12``), once that is known."""
        posting = replace(self.posting, operation=operation)
        return MemberAccount(self.session, posting, self.debt, self.queued, self.known, self.reserved_lot, self.lots)

    def _queue(self, legs: list[dict[str, object]], *, opened: int = 0) -> None:
        self.queued.append(legs)
        if self.known is not None:
            self.known.add(legs, opened=opened)

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
        opened = service.open_credit(
            self.session,
            self.posting,
            parts,
            kind=kind,
            policy=policy,
            zone=zone,
            allow_pending=allow_pending,
            reserved_id=self.reserved_lot,
        )
        if opened is None:
            return None
        if opened.row is not None:
            self.reserved_lot = None
            self.lots.append(opened.row)
        if opened.is_pending or self.debt == 0:  # nothing to repay: written with the operation's other legs
            self._queue(opened.legs, opened=sum(part.points for part in parts))
            return opened.lot_id
        self._moved()
        service.write(self.session, opened.legs)
        service.repay_debt(self.session, self.posting, debt=self.debt)
        self.debt = None
        return opened.lot_id

    def spend(self, points: int, *, kind: EntryKind, description: str) -> int:
        self._moved()
        return service.spend(self.session, self.posting, points, kind=kind, description=description)

    def reverse(self, *, lot_id: int | None, due: int, policy: ReturnPolicy, description: str) -> int:
        self._moved()
        taken = service.reverse(
            self.session, self.posting, lot_id=lot_id, due=due, policy=policy, description=description
        )
        self.debt = None
        return taken

    def _moved(self) -> None:
        """Before points move other than by queued legs: write what waits, and read balances from the rows again."""
        self.flush()
        self.known = None

    def add_tier_credits(
        self, amount: int, kind: EntryKind, description: str, *, dated: datetime | None = None
    ) -> None:
        """Tier credits (none for zero), written with the operation's other legs; ``dated`` moves them to another
        moment (a refund's reversal is dated at the order, so it leaves the tier window with the credit it cancels)."""
        posting = replace(self.posting, occurred_at=dated) if dated is not None else self.posting
        if legs := service.tier_credit_entries(posting, amount, kind, description):
            self._queue(legs)

    def flush(self) -> None:
        """Write what waits: the lots opened under reserved ids, then the legs, one INSERT each."""
        if self.lots:
            service.insert_lots(self.session, self.lots)
            self.lots.clear()
        if self.queued:
            service.write(self.session, *self.queued)
            self.queued.clear()

    def balances(self) -> Balances:
        if self.known is not None:
            return self.known.balances
        self.flush()  # the account rows the balances are read from move with the legs
        return repository.balances(self.session, self.posting.member_id)

    # --- reads for the mechanics (``mechanics.base.Account``): what is queued and would change the answer is written
    # first, so a read sees this operation's own legs just as the importer's in-memory book does -----------------

    def firing_count(self, rule_code: str, since: datetime | None, until: datetime) -> int:
        self._flush_if(lambda leg: leg["rule_code"] == rule_code)
        return repository.firing_count(self.session, self.posting.member_id, rule_code, since, until)

    def tier_credits(self, since: datetime | None, until: datetime) -> int:
        if self.known is not None and self.known.window == (since, until):
            return self.known.credits
        self._flush_if(_is_tier_credit)
        return repository.tier_credits(self.session, self.posting.member_id, since, until)

    def balance(self) -> PointsBalance:
        found = self.balances()
        return PointsBalance(found.available, found.pending)

    def balance_and_credits(self, since: datetime | None, until: datetime) -> tuple[PointsBalance, int]:
        """From ``known`` when it holds this window; otherwise from the account rows, which move when the queued legs
        are written."""
        if self.known is not None and self.known.window == (since, until):
            found, credits = self.known.balances, self.known.credits
        else:
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
    known: Known | None = None,
    reserved_lot: int | None = None,
) -> MemberAccount:
    """Lock ``posting``'s member and settle what is due at ``posting.occurred_at``.

    ``is_locked`` is for a caller that took the member's lock itself (to look for a replay before anything moves);
    ``due`` for one whose own first query also read what is due (the event path does both in one round trip,
    ``event.repository.arrival``); ``is_new`` for a member created in this transaction (locked, nothing due).
    ``known``: the balances that first query read (``Known``); kept only when settling has nothing to do, since
    settling moves them. ``reserved_lot``: a lot id that query took from the lots' sequence (``MemberAccount``).
    """
    if is_new:
        due = repository.Due.NOTHING
    if not is_locked and due is None:
        members.lock_id(session, posting.member_id)
    debt = service.settle_member(session, posting, at=posting.occurred_at, due=due)
    known = known if due is not None and not due.anything else None
    return MemberAccount(session, posting, debt, known=known, reserved_lot=reserved_lot)


@dataclass(frozen=True)
class Readings:
    """A member's ledger read without a lock, for a preview: what the rules may count, nothing they may move."""

    session: Session
    member_id: int

    def firing_count(self, rule_code: str, since: datetime | None, until: datetime) -> int:
        return repository.firing_count(self.session, self.member_id, rule_code, since, until)
