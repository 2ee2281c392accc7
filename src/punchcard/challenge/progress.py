"""How a member's progress in a challenge moves (pure): what an event contributes, what the contributions add up to,
when the goal is reached, and what a refund takes away.

Progress is kept as contributions, one per qualifying event (a purchase's under its order id), so that a refund takes
away what its order gave and nothing else. The mechanics know a refund by the order's cumulative refunded fraction
(a refund gives an amount or lines; the event path turns either into that fraction), and it acts per goal:

- **spend**: the order's qualifying value shrinks by the refunded share, ``floor(value × fraction)`` taken away,
  so refunds in parts and then of the rest take away exactly the whole value, and never more;
- **a minimum order**: an order whose total, less the refunded share, falls below it stops counting altogether (it
  only counted because it met the minimum);
- **count, categories, skus, days**: an order counts whole until it is refunded whole. A refund by amount does not
  say which lines went back, so taking a category away on a partial refund could take away one the member kept.

A completed challenge is reversed when a refund takes the goal away before the completion is final: before the
return window of the event that completed it closes (``Completion.final_at``). After that, the completion stands.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo

from punchcard.challenge.domain import Challenge, Goal, GoalKind, Qualifier, Span, WindowKind
from punchcard.kit.calendar import local_date
from punchcard.kit.money import to_minor
from punchcard.rules.domain import PURCHASE, EventFacts


@dataclass(frozen=True)
class Contribution:
    """What one qualifying event gave: its value and the keys distinct-goals count, kept until it stops mattering."""

    key: str
    """The order id of a purchase (refunds name it), else the event id."""
    at: datetime
    day: date
    """The event's local day (for ``days`` goals)."""
    spend_minor: int = 0
    """The qualifying lines' value."""
    order_minor: int = 0
    """The order's merchandise total (for a minimum order)."""
    categories: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    refunded: Decimal = Decimal(0)
    """The order's cumulative refunded fraction."""

    def left(self, amount: int) -> int:
        """What is left of ``amount`` after the refunded share: ``floor(amount × refunded)`` is taken away."""
        if self.refunded >= 1:
            return 0
        return amount - int((amount * self.refunded).to_integral_value(rounding=ROUND_FLOOR))

    def counts(self, min_order_minor: int) -> bool:
        return self.refunded < 1 and self.left(self.order_minor) >= min_order_minor


def contribution(
    qualifier: Qualifier, facts: EventFacts, key: str, currency: str, zone: ZoneInfo
) -> Contribution | None:
    """What an event gives towards anything ``qualifier`` accepts; ``None`` when it does not qualify."""
    if facts.type != qualifier.event_type:
        return None
    day = local_date(facts.occurred_at, zone)
    if facts.type != PURCHASE:
        return Contribution(key, facts.occurred_at, day)
    lines = [line for line in facts.lines if qualifier.lines.matches(line)]
    order_minor = to_minor(facts.order_total, currency)
    if not lines or order_minor < qualifier.min_order_minor:
        return None
    return Contribution(
        key,
        facts.occurred_at,
        day,
        spend_minor=to_minor(sum((line.value for line in lines), Decimal(0)), currency),
        order_minor=order_minor,
        categories=tuple(sorted({line.category for line in lines})),
        skus=tuple(sorted({line.sku for line in lines})),
    )


def current(goal: Goal, qualifier: Qualifier, contributions: Iterable[Contribution]) -> int:
    """What the contributions still count add up to, in the goal's terms."""
    live = [found for found in contributions if found.counts(qualifier.min_order_minor)]
    if goal.kind is GoalKind.COUNT:
        return len(live)
    if goal.kind is GoalKind.SPEND:
        return sum(found.left(found.spend_minor) for found in live)
    if goal.kind is GoalKind.CATEGORIES:
        return len({category for found in live for category in found.categories})
    if goal.kind is GoalKind.SKUS:
        return len({sku for found in live for sku in found.skus})
    return len({found.day for found in live})


@dataclass(frozen=True)
class Completion:
    """A challenge completed, with what its prize gave (to take back if it is reversed)."""

    number: int
    """1 for the first completion of the period; a reversed one's successor is 2, and so on."""
    at: datetime
    final_at: datetime | None
    """When the completing event's return window closes; ``None``: final at once (no window, or no purchase)."""
    points: int = 0
    lot_id: int | None = None
    coupon: str | None = None
    badge: str | None = None

    def is_final(self, at: datetime) -> bool:
        return self.final_at is None or at >= self.final_at


@dataclass(frozen=True)
class Standing:
    """A member in one challenge (one period of a recurring one); when they joined it is kept beside it."""

    started_at: datetime | None = None
    """When a rolling window began for the member."""
    contributions: tuple[Contribution, ...] = ()
    completion: Completion | None = None
    completions: int = 0
    """How many times it was completed in this period, reversed ones included (numbers the next)."""


@dataclass(frozen=True)
class Step:
    standing: Standing
    current: int
    progressed: bool
    """The progress shown changed (the challenge was not completed already)."""
    completes: bool
    span: Span


def advance(
    challenge: Challenge, standing: Standing, joined_at: datetime | None, found: Contribution, zone: ZoneInfo
) -> Step | None:
    """``found`` added to the member's progress; ``None`` when it cannot count: the challenge asks to be joined and
    was not (or was joined after the event), the event is outside the window, the order is counted already, or the
    challenge was completed for good (nothing after that can change it)."""
    if challenge.opt_in and (joined_at is None or found.at < joined_at):
        return None
    started_at = standing.started_at
    if challenge.window.kind is WindowKind.ROLLING and started_at is None:
        started_at = joined_at if challenge.opt_in else found.at
    span = challenge.window.span(found.at, zone, started_at)
    if span is None or not span.contains(found.at):
        return None
    done = standing.completion
    if (done is not None and done.is_final(found.at)) or any(c.key == found.key for c in standing.contributions):
        return None
    goal, qualifier = challenge.goal, challenge.qualifier
    before = current(goal, qualifier, standing.contributions)
    after = replace(standing, started_at=started_at, contributions=(*standing.contributions, found))
    now = current(goal, qualifier, after.contributions)
    return Step(after, now, done is None and now != before, done is None and now >= goal.target, span)


def complete(standing: Standing, completion: Completion) -> Standing:
    return replace(standing, completion=completion, completions=standing.completions + 1)


@dataclass(frozen=True)
class Retreat:
    standing: Standing
    current: int
    changed: bool
    """The progress shown changed (the challenge was not completed, or its completion was reversed)."""
    reversed: Completion | None


def take_away(challenge: Challenge, standing: Standing, key: str, refunded: Decimal, at: datetime) -> Retreat | None:
    """The refund of order ``key`` (cumulative fraction ``refunded``) at ``at`` applied to the member's progress;
    ``None`` when the order gave nothing. A completion that is not final yet is reversed if the goal is no longer
    reached."""
    index = next((i for i, found in enumerate(standing.contributions) if found.key == key), None)
    if index is None:
        return None
    goal, qualifier, found = challenge.goal, challenge.qualifier, standing.contributions[index]
    updated = replace(found, refunded=max(found.refunded, min(refunded, Decimal(1))))
    contributions = (*standing.contributions[:index], updated, *standing.contributions[index + 1 :])
    before = current(goal, qualifier, standing.contributions)
    now = current(goal, qualifier, contributions)
    done = standing.completion
    reverse = done is not None and not done.is_final(at) and now < goal.target
    after = replace(standing, contributions=contributions, completion=None if reverse else done)
    return Retreat(after, now, (done is None or reverse) and now != before, done if reverse else None)
