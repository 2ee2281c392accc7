"""The plug-in point: the ``Mechanic`` protocol, the ``Turn`` a mechanic acts in, and the registry.

A synchronous mechanic changes the answer to the event that triggered it (earning, tiers): it runs inside the
event's transaction, holding the member's lock, and its domain events are part of the response's effects. An
asynchronous one reacts to committed domain events through the outbox (``outbox.dispatcher.Consumer``) and never
delays or fails a request. Choose the first only when the event's own answer depends on it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from punchcard.kit.events import DomainEvent
from punchcard.ledger.domain import EntryKind, PointsBalance, PointsPolicy, ReturnPolicy
from punchcard.ledger.posting import Posting
from punchcard.ledger.service import Credit
from punchcard.membership.domain import Plan, Terms
from punchcard.program.domain import ProgramVersion
from punchcard.rules.domain import EventFacts
from punchcard.tier.domain import TierChanged, TierPolicy


class Counting(Protocol):
    """What a rule may count in the member's ledger without moving anything (a preview reads only this)."""

    def firing_count(self, rule_code: str, since: datetime | None, until: datetime) -> int:
        """How many lots entries of ``rule_code`` opened in ``[since, until]`` (a rule's or a mechanic's own code)."""
        ...


class Account(Counting, Protocol):
    """The member's points as a mechanic reads and moves them, already locked and settled at the event's moment.

    Two executors implement it: ``ledger.account.MemberAccount`` (the API: rows in the database) and the importer's
    in-memory book (``importer.book``), so a mechanic written against it runs unchanged in both.
    """

    @property
    def posting(self) -> Posting: ...

    def credit(
        self, parts: Sequence[Credit], *, kind: EntryKind, policy: PointsPolicy, zone: ZoneInfo, allow_pending: bool
    ) -> int | None: ...

    def add_tier_credits(
        self, amount: int, kind: EntryKind, description: str, *, dated: datetime | None = None
    ) -> None: ...

    def flush(self) -> None: ...

    def tier_credits(self, since: datetime | None, until: datetime) -> int: ...

    def balance_and_credits(self, since: datetime | None, until: datetime) -> tuple[PointsBalance, int]:
        """The member's points (the event's answer) and their tier credits in ``[since, until]``, in one read."""
        ...

    def balance(self) -> PointsBalance:
        """The member's points with this operation's own legs (read with the lock when it could be)."""
        ...


@runtime_checkable
class LiveAccount(Account, Protocol):
    """The account of a live event, which a ``live_only`` mechanic may also move points back with (a referral's or a
    challenge's reward after a refund); the importer, which runs no such mechanic, has no need of it."""

    def reverse(self, *, lot_id: int | None, due: int, policy: ReturnPolicy, description: str) -> int:
        """Take back ``due`` points (lot ``lot_id`` first) as ``policy`` allows; returns what was taken."""
        ...


def live_account(turn: Turn) -> LiveAccount:
    """``turn.account`` as a live event's (only ``live_only`` mechanics may ask, since only live events have it)."""
    account = turn.account
    if not isinstance(account, LiveAccount):
        raise TypeError(f"{type(account).__name__} cannot take points back: only live events can")
    return account


class Standing(Protocol):
    """The member as a mechanic sees and changes them: who they are, their tier, what rules may ask about them.

    Implemented over the stored member (``mechanics.stored``) and over the importer's book.
    """

    @property
    def id(self) -> int: ...

    @property
    def tier_code(self) -> str | None: ...

    @property
    def tier_grace_until(self) -> datetime | None: ...

    def attributes(self, now: datetime, *, with_orders: bool) -> dict[str, object]:
        """What earning rules may test about the member (``member.service.attributes``); the order count, a query,
        only ``with_orders``."""
        ...

    def change_tier(
        self, policy: TierPolicy, to_code: str, reason: str, at: datetime, event_row: int | None
    ) -> TierChanged: ...

    def end_grace(self) -> None: ...

    def tier_held_before(self, moment: datetime) -> str | None: ...

    def plan(self, terms: Terms, now: datetime) -> Plan | None:
        """The paid membership plan the member is on at ``now`` (its perks hold), if any."""
        ...


@dataclass
class Turn:
    """One event's pass through the mechanics: who, what, the account to move points with, and what earlier
    mechanics of the same event left (their domain events, and ``notes`` such as the earning's evaluation)."""

    session: Session
    """For a mechanic's own tables (its repository); the member's points and tier go through ``account`` and
    ``member``, which the importer keeps in memory."""
    version: ProgramVersion
    member: Standing
    facts: EventFacts
    account: Account
    now: datetime
    event: str | None = None
    """The shop's event id (none for an enrolment)."""
    event_row: int | None = None
    """The ``events`` row of the event (none for an enrolment)."""
    events: list[DomainEvent] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def program_id(self) -> int:
        return self.version.program_id


class Mechanic(Protocol):
    """Something that reacts to a member's events inside the event's transaction.

    ``section`` picks the part of the program it owns (``None``: nothing to do for this program and event type);
    ``load`` reads the member's state it needs; ``decide`` is pure (no session, no clock: the mechanic's domain);
    ``apply`` writes the decision through ``turn.account`` and the mechanic's own service and returns the domain
    events it caused, which the event path publishes and derives the response's effects from.
    """

    @property
    def name(self) -> str: ...

    def section(self, version: ProgramVersion, event_type: str) -> Any | None: ...

    def load(self, turn: Turn, section: Any) -> Any: ...

    def decide(self, facts: EventFacts, state: Any, section: Any) -> Any: ...

    def apply(self, turn: Turn, decision: Any) -> Sequence[DomainEvent]: ...


def run(mechanic: Mechanic, turn: Turn) -> None:
    """One mechanic's part of ``turn``: nothing when the program gives it no section for this event type."""
    section = mechanic.section(turn.version, turn.facts.type)
    if section is None:
        return
    decision = mechanic.decide(turn.facts, mechanic.load(turn, section), section)
    turn.events.extend(mechanic.apply(turn, decision))


class Registry:
    """The synchronous mechanics, in the order they run (earning before tiers: tiers count what was earned).

    A mechanic registered ``live_only`` reacts to what members do now (a referral, a challenge, a streak) and not to
    history an import replays: a shop importing last year's orders does not mean to pay referral bonuses or complete
    challenges for them. The importer runs ``for_history()``; the event path runs them all.
    """

    def __init__(self) -> None:
        self._mechanics: list[Mechanic] = []
        self._live_only: set[str] = set()
        self._lock = threading.Lock()

    def add(self, mechanic: Mechanic, *, before: str | None = None, live_only: bool = False) -> None:
        """Register ``mechanic`` last, or just before the one named ``before``."""
        with self._lock:
            if any(known.name == mechanic.name for known in self._mechanics):
                raise ValueError(f"a mechanic named {mechanic.name!r} is already registered")
            names = [known.name for known in self._mechanics]
            self._mechanics.insert(names.index(before) if before is not None else len(names), mechanic)
            if live_only:
                self._live_only.add(mechanic.name)

    def remove(self, name: str) -> None:
        with self._lock:
            self._mechanics = [known for known in self._mechanics if known.name != name]
            self._live_only.discard(name)

    def __iter__(self) -> Iterator[Mechanic]:
        return iter(list(self._mechanics))

    def for_history(self) -> list[Mechanic]:
        """The mechanics an import of past orders runs: all but the ``live_only`` ones."""
        with self._lock:
            return [known for known in self._mechanics if known.name not in self._live_only]

    @contextmanager
    def added(self, mechanic: Mechanic, *, before: str | None = None) -> Iterator[None]:
        """``mechanic`` registered for the duration of a ``with`` block (tests, a trial)."""
        self.add(mechanic, before=before)
        try:
            yield
        finally:
            self.remove(mechanic.name)


def run_all(mechanics: Iterable[Mechanic], turn: Turn) -> None:
    for mechanic in mechanics:
        run(mechanic, turn)
