"""How a member's streak moves (pure): the periods with a qualifying event, the run they make, its milestones, and
what a refund takes away.

A streak keeps the periods (calendar weeks or months, numbered by ``Cadence.number``) in which the member had a
qualifying event, each with its events' contributions. Taken in order, they make **runs**: a missed period uses
one of the run's ``freezes`` (a frozen period bridges the gap but does not count), and a gap that needs more than
are left ends the run. The member's streak is the last run; its length is the number of periods with an event. It is
worked out from the periods alone, so an event that arrives late fills its gap as if it had come on time.

A **milestone** is reached when the run counts ``milestone`` periods (and, with ``repeat``, each further
``milestone``); it is recorded with the periods that made it, and is due again only in a run that does not contain
those periods, so a run that grows, or a late event, never pays a milestone twice. A refund that leaves a period with
no counting event takes it away; a milestone whose own periods then no longer make a run of its length is reversed,
if the refund comes before the milestone is final (the return window of the event that reached it), as a challenge's
completion is. Contributions count as in challenges (``progress.Contribution.counts``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from punchcard.challenge.domain import Streak
from punchcard.challenge.progress import Contribution

Periods = tuple[tuple[int, tuple[Contribution, ...]], ...]
"""The periods by index, ascending, each with the contributions of its events."""


@dataclass(frozen=True)
class Milestone:
    length: int
    number: int
    """The streak's milestones reached so far, this one included (names its prize)."""
    at: datetime
    final_at: datetime | None
    periods: tuple[int, ...]
    """The run's periods when it was reached."""
    points: int = 0
    lot_id: int | None = None
    coupon: str | None = None
    badge: str | None = None

    def is_final(self, at: datetime) -> bool:
        return self.final_at is None or at >= self.final_at


@dataclass(frozen=True)
class Record:
    """A member's streak."""

    periods: Periods = ()
    milestones: tuple[Milestone, ...] = ()
    reached: int = 0
    """Milestones ever reached, reversed ones included."""
    best: int = 0
    """The longest run so far."""


def qualifying(streak: Streak, periods: Periods) -> list[int]:
    """The periods with an event that still counts, ascending."""
    minimum = streak.qualifier.min_order_minor
    return [index for index, found in periods if any(item.counts(minimum) for item in found)]


def runs(indexes: Sequence[int], freezes: int) -> list[tuple[int, ...]]:
    """``indexes`` (ascending) cut into runs, in order: each missed period uses one of the run's ``freezes``, and a
    gap that needs more than are left ends the run, the next one starting with all of them again."""
    found: list[tuple[int, ...]] = []
    run: list[int] = []
    used = 0
    for index in indexes:
        missed = index - run[-1] - 1 if run else 0
        if run and used + missed <= freezes:
            used += missed
            run.append(index)
            continue
        if run:
            found.append(tuple(run))
        run, used = [index], 0
    return [*found, tuple(run)] if run else found


def run_of(indexes: Sequence[int], freezes: int) -> tuple[int, ...]:
    """The run the latest of ``indexes`` belongs to: the member's streak."""
    found = runs(indexes, freezes)
    return found[-1] if found else ()


def longest_run(indexes: Sequence[int], freezes: int) -> int:
    return max((len(run) for run in runs(indexes, freezes)), default=0)


def lengths_due(streak: Streak, length: int) -> list[int]:
    """The milestone lengths a run of ``length`` periods has reached."""
    if not streak.repeat:
        return [streak.milestone] if length >= streak.milestone else []
    return list(range(streak.milestone, length + 1, streak.milestone))


@dataclass(frozen=True)
class Extension:
    record: Record
    run: tuple[int, ...]
    extended: bool
    """The event's period is new to the run."""
    due: tuple[int, ...]
    """Milestone lengths reached now, to be paid."""


def extend(streak: Streak, record: Record, found: Contribution, zone: ZoneInfo) -> Extension | None:
    """``found`` added to its period; ``None`` when that event is counted already."""
    if any(item.key == found.key for _, items in record.periods for item in items):
        return None
    index = streak.every.number(streak.every.first_day(found.at, zone))
    before = qualifying(streak, record.periods)
    mine = next((items for at, items in record.periods if at == index), ())
    periods = tuple(sorted([*((at, items) for at, items in record.periods if at != index), (index, (*mine, found))]))
    run = run_of(qualifying(streak, periods), streak.freezes)
    held = set(run)
    due = tuple(
        length
        for length in lengths_due(streak, len(run))
        if not any(m.length == length and set(m.periods) <= held for m in record.milestones)
    )
    updated = replace(record, periods=periods, best=max(record.best, len(run)))
    return Extension(updated, run, index not in before and index in held, due)


def reach(record: Record, milestone: Milestone) -> Record:
    return replace(record, milestones=(*record.milestones, milestone), reached=record.reached + 1)


@dataclass(frozen=True)
class Shortening:
    record: Record
    reversed: tuple[Milestone, ...]


def shorten(streak: Streak, record: Record, key: str, refunded: Decimal, at: datetime) -> Shortening | None:
    """The refund of order ``key`` (cumulative fraction ``refunded``) at ``at``; ``None`` when it counted nowhere."""
    if not any(item.key == key for _, items in record.periods for item in items):
        return None
    fraction = min(refunded, Decimal(1))
    periods = tuple(
        (index, tuple(replace(i, refunded=max(i.refunded, fraction)) if i.key == key else i for i in items))
        for index, items in record.periods
    )
    counting = set(qualifying(streak, periods))
    kept, gone = [], []
    for milestone in record.milestones:
        still = [index for index in milestone.periods if index in counting]
        if milestone.is_final(at) or longest_run(still, streak.freezes) >= milestone.length:
            kept.append(milestone)
        else:
            gone.append(milestone)
    return Shortening(replace(record, periods=periods, milestones=tuple(kept)), tuple(gone))


def pruned(streak: Streak, record: Record, at: datetime) -> Record:
    """``record`` without what can no longer matter at ``at``: milestones that are final and outside the run, and
    periods that are neither in the run nor in a milestone kept. Keeps a streak's row small however long it runs."""
    held = set(run_of(qualifying(streak, record.periods), streak.freezes))
    milestones = tuple(m for m in record.milestones if not m.is_final(at) or set(m.periods) <= held)
    needed = held | {index for m in milestones for index in m.periods}
    return replace(record, periods=tuple(p for p in record.periods if p[0] in needed), milestones=milestones)


@dataclass(frozen=True)
class StreakStatus:
    """A streak as the member sees it at a moment."""

    length: int
    """Periods in the run that can still be extended; 0 once it is broken."""
    best: int
    is_extended_now: bool
    """The current period counts already."""
    freezes_left: int
    next_milestone: int | None


def streak_status(streak: Streak, record: Record, now: datetime, zone: ZoneInfo) -> StreakStatus:
    run = run_of(qualifying(streak, record.periods), streak.freezes)
    this = streak.every.number(streak.every.first_day(now, zone))
    used = (run[-1] - run[0] + 1 - len(run)) if run else 0
    missed = max(this - run[-1] - 1, 0) if run else 0
    alive = bool(run) and run[-1] <= this and used + missed <= streak.freezes
    length = len(run) if alive else 0
    upcoming = [n for n in lengths_due(streak, length + streak.milestone) if n > length]
    left = streak.freezes - used - missed if alive else streak.freezes
    return StreakStatus(length, record.best, alive and run[-1] == this, left, upcoming[0] if upcoming else None)
