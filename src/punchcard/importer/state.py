"""The state of a batch of members as the importer keeps it in memory while their orders apply, and the rows the
batch will write: what the event path would read from and write to the database, one order after another.

The mechanics see it through ``importer.ports``, the same interfaces (``mechanics.base.Account`` and ``Standing``) that
the API's stored member and account implement.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any


@dataclass
class OpenLot:
    """A lot that can still change: points left, or still pending."""

    id: int
    remaining: int
    expires_at: datetime | None
    is_pending: bool
    available_at: datetime | None
    is_new: bool = False
    is_changed: bool = False


@dataclass
class Profile:
    """The member fields rules may look at (``member.service.Described``); a member the import creates has only
    the moment of enrolment (its first order)."""

    enrolled_at: datetime
    language: str | None = None
    marketing_consent: bool = False
    birth_date: date | None = None
    email: str | None = None


@dataclass
class MemberBook:
    """One member's state as the event path would read it from the database, kept current as orders apply."""

    id: int
    external_id: str
    profile: Profile
    tier_code: str | None
    tier_since: datetime | None
    tier_grace_until: datetime | None
    is_new: bool
    lots: list[OpenLot] = field(default_factory=list)
    debt_line: int = 0
    """Sum of the lot-less ``points`` entries: negative while the member owes points."""
    tier_credits: list[tuple[datetime, int]] = field(default_factory=list)
    firings: dict[str, list[tuple[datetime, int]]] = field(default_factory=dict)
    """Per rule code: (when, lot id) of each earn entry, as ``ledger.repository.firing_count`` counts them. The
    limited rules' firings are read with the batch; another code's (a mechanic's own) when first asked."""
    order_count: int = 0
    is_changed: bool = False
    _credits_from: int = 0
    """``tier_credits[:_credits_from]`` have left the window (orders come oldest first, so they never come back)."""
    _credits_sum: int | None = None
    """The sum of ``tier_credits[_credits_from:]``; ``None`` until the list (as loaded) has been sorted."""

    # --- tier credits in the window (``ledger.repository`` sums them for the tier mechanic) ----------------------

    def _sorted_credits(self) -> int:
        if self._credits_sum is None:
            self.tier_credits.sort()
            self._credits_from, self._credits_sum = 0, sum(amount for _, amount in self.tier_credits)
        return self._credits_sum

    def add_tier_credit(self, at: datetime, amount: int) -> None:
        self._credits_sum = self._sorted_credits() + amount
        bisect.insort(self.tier_credits, (at, amount), lo=self._credits_from)

    def window_value(self, since: datetime | None, at: datetime) -> int:
        """The credits from ``since`` (``None``: all) up to ``at``; what is before ``since`` is dropped for good."""
        total, credits = self._sorted_credits(), self.tier_credits
        start = self._credits_from
        if since is not None:
            while start < len(credits) and credits[start][0] < since:
                total -= credits[start][1]
                start += 1
            self._credits_from, self._credits_sum = start, total
        if not credits or credits[-1][0] <= at:
            return total
        return sum(amount for moment, amount in credits[start:] if moment <= at)  # credits after ``at`` (live ones)

    # --- settling -------------------------------------------------------------------------------------------------

    def may_settle(self, at: datetime) -> bool:
        """Whether settling at ``at`` can change anything: a debt to repay, or a lot to vest or expire. Most orders
        find nothing due, and answering that without building the settlement's views of every lot was a tenth of an
        import's time. ``True`` is only a maybe: the settlement rule decides."""
        if self.debt_line < 0:
            return True
        for lot in self.lots:
            if lot.is_pending:
                if lot.available_at is not None and lot.available_at <= at:
                    return True
            elif lot.remaining > 0 and lot.expires_at is not None and lot.expires_at <= at:
                return True
        return False

    # --- the balances ``ledger.repository.balances`` would sum from the entries ------------------------------------

    @property
    def available(self) -> int:
        return sum(lot.remaining for lot in self.lots if not lot.is_pending) + self.debt_line

    @property
    def pending(self) -> int:
        return sum(lot.remaining for lot in self.lots if lot.is_pending)


@dataclass
class Rows:
    """Everything a batch writes, in the order it must be written (foreign keys point backwards)."""

    members: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    lots: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)
    entries: list[dict[str, Any]] = field(default_factory=list)
    tier_changes: list[dict[str, Any]] = field(default_factory=list)
    outbox: list[dict[str, Any]] = field(default_factory=list)
    lot_updates: list[dict[str, Any]] = field(default_factory=list)
    member_updates: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Ids:
    """Ids reserved in the database for the rows a batch inserts (members, events and lots are referred to)."""

    members: Iterator[int]
    events: Iterator[int]
    lots: Iterator[int]
