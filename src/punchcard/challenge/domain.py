"""Challenges, badges and streaks as a program defines them, and the events of members playing them. Pure: time
comes in as arguments, nothing reads a clock, a database or a setting.

A **challenge** is a goal (``Goal``: a count of qualifying events, spend, distinct categories, skus or days) over the
events a ``Qualifier`` accepts (an event type; for purchases, order lines and a minimum order), inside a ``Window``
(fixed local dates, a rolling number of days from the member's start, or each calendar week or month), optionally
joined first (``opt_in``), with a ``Prize`` (points, a reward's coupon, a badge). A **streak** counts consecutive
calendar weeks or months with a qualifying event and gives its prize at milestones. A **badge** is one of our own
images (``Shape`` in a ``Finish``) and is earned once or at levels, by how many times the member earned it.

The rules of a member's progress are in ``challenge.progress`` and of streaks in ``challenge.streaks``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import ClassVar
from zoneinfo import ZoneInfo

from punchcard.i18n.text import Text
from punchcard.kit.calendar import end_of_local_day_after, last_usable_day, local_date, start_of_local_day
from punchcard.kit.events import JSON, DomainEvent
from punchcard.kit.money import format_amount, from_minor
from punchcard.rules.domain import PURCHASE, LineFilter


class GoalKind(StrEnum):
    COUNT = "count"
    """Qualifying events (purchases, or the custom event the challenge names)."""
    SPEND = "spend"
    """The value of the qualifying lines, in minor units of the program's currency."""
    CATEGORIES = "categories"
    SKUS = "skus"
    DAYS = "days"
    """Distinct local days with a qualifying event (visits)."""


@dataclass(frozen=True)
class Goal:
    kind: GoalKind
    target: int
    """How many events, categories, skus or days; for ``spend``, minor units."""


class Cadence(StrEnum):
    """Calendar periods in the program's time zone: ISO weeks (Monday first) and months."""

    WEEK = "week"
    MONTH = "month"

    def first_day(self, moment: datetime, zone: ZoneInfo) -> date:
        """The local first day of the period that contains ``moment``."""
        day = local_date(moment, zone)
        return day - timedelta(days=day.weekday()) if self is Cadence.WEEK else day.replace(day=1)

    def number(self, first_day: date) -> int:
        """A number per period, consecutive periods consecutive numbers (streaks count with it)."""
        if self is Cadence.WEEK:
            return (first_day.toordinal() - 1) // 7  # day 1 (1 January of year 1) was a Monday
        return first_day.year * 12 + first_day.month - 1

    def first_day_of(self, number: int) -> date:
        """The first day of the period numbered ``number``."""
        return date.fromordinal(number * 7 + 1) if self is Cadence.WEEK else date(number // 12, number % 12 + 1, 1)

    def key(self, first_day: date) -> str:
        """The period's name: ``2026-W23`` (ISO week) or ``2026-06``."""
        if self is Cadence.WEEK:
            year, week, _ = first_day.isocalendar()
            return f"{year}-W{week:02d}"
        return f"{first_day:%Y-%m}"

    def span(self, first_day: date, zone: ZoneInfo) -> Span:
        after = self.first_day_of(self.number(first_day) + 1)
        return Span(start_of_local_day(first_day, zone), start_of_local_day(after, zone))


@dataclass(frozen=True)
class Span:
    """``[starts_at, ends_at)``, in UTC."""

    starts_at: datetime
    ends_at: datetime

    def contains(self, moment: datetime) -> bool:
        return self.starts_at <= moment < self.ends_at


class WindowKind(StrEnum):
    FIXED = "fixed"
    ROLLING = "rolling"
    RECURRING = "recurring"


@dataclass(frozen=True)
class Window:
    """When a challenge's events count: ``FIXED`` local dates (both included), ``ROLLING`` ``days`` from the
    member's start (joining, or the first qualifying event when there is nothing to join), ``RECURRING`` ``every``
    calendar week or month, each period a challenge of its own."""

    kind: WindowKind
    first_day: date | None = None
    last_day: date | None = None
    days: int = 0
    every: Cadence | None = None

    def period(self, moment: datetime, zone: ZoneInfo) -> str:
        """The period of a recurring window that ``moment`` falls in (``2026-06``); ``""`` for the others, which have
        one period per member."""
        if self.every is None:
            return ""
        return self.every.key(self.every.first_day(moment, zone))

    def span(self, moment: datetime, zone: ZoneInfo, started_at: datetime | None) -> Span | None:
        """The window that applies to an event at ``moment`` for a member who started at ``started_at``; ``None``
        for a rolling window not started yet. A rolling window ends with the ``days``-th local day after the start,
        so a member who starts in the evening loses nothing."""
        if self.kind is WindowKind.FIXED:
            assert self.first_day is not None
            assert self.last_day is not None
            after = self.last_day + timedelta(days=1)
            return Span(start_of_local_day(self.first_day, zone), start_of_local_day(after, zone))
        if self.kind is WindowKind.ROLLING:
            if started_at is None:
                return None
            return Span(started_at, end_of_local_day_after(started_at, zone, days=self.days))
        assert self.every is not None
        return self.every.span(self.every.first_day(moment, zone), zone)


@dataclass(frozen=True)
class Qualifier:
    """Which events count: of ``event_type``; for purchases, with a line ``lines`` selects (all lines when it
    selects none in particular) and a merchandise total of at least ``min_order_minor``."""

    event_type: str = PURCHASE
    lines: LineFilter = field(default_factory=LineFilter)
    min_order_minor: int = 0


@dataclass(frozen=True)
class Prize:
    """What completing a challenge, or a streak's milestone, gives: points, a reward's coupon, a badge."""

    points: int = 0
    reward: str | None = None
    """The code of a reward whose coupon is given (``reward.service.gift``), without spending points."""
    badge: str | None = None


@dataclass(frozen=True)
class Challenge:
    code: str
    name: Text
    description: Text
    goal: Goal
    qualifier: Qualifier
    window: Window
    prize: Prize
    opt_in: bool = False


@dataclass(frozen=True)
class Streak:
    """Consecutive periods (``every`` week or month) with a qualifying event. The prize comes when the run reaches
    ``milestone`` periods and, with ``repeat``, every further ``milestone``; ``freezes`` missed periods in a run are
    forgiven (0: one missed period ends it)."""

    code: str
    name: Text
    description: Text
    every: Cadence
    qualifier: Qualifier
    milestone: int
    prize: Prize
    repeat: bool = False
    freezes: int = 0


class Shape(StrEnum):
    """The shapes of our badge images (``challenge/badges/<shape>-<finish>.svg``)."""

    CIRCLE = "circle"
    STAR = "star"
    SHIELD = "shield"
    HEXAGON = "hexagon"
    DIAMOND = "diamond"


class Finish(StrEnum):
    PLAIN = "plain"
    """A badge without levels."""
    BRONZE = "bronze"
    SILVER = "silver"
    GOLD = "gold"


LEVELS = (Finish.BRONZE, Finish.SILVER, Finish.GOLD)


@dataclass(frozen=True)
class Badge:
    """Earned once, or at ``levels``: (level, times earned) in ascending order, e.g. bronze at 1, silver at 3."""

    code: str
    name: Text
    description: Text
    shape: Shape = Shape.CIRCLE
    levels: tuple[tuple[Finish, int], ...] = ()

    def level_at(self, times: int) -> Finish | None:
        """The level of a badge earned ``times`` times; ``None`` before it is earned, ``PLAIN`` without levels."""
        if times <= 0:
            return None
        if not self.levels:
            return Finish.PLAIN
        reached = [level for level, needed in self.levels if times >= needed]
        return reached[-1] if reached else None

    def image(self, finish: Finish | None) -> str:
        """The file name of its image: the level's finish, the first level's before it is earned."""
        shown = finish or (self.levels[0][0] if self.levels else Finish.PLAIN)
        return f"{self.shape.value}-{shown.value}.svg"


def days_left(ends_at: datetime, now: datetime, zone: ZoneInfo) -> int:
    """Local days left until ``ends_at``, today included ("9 days left"; 1 on the last day); 0 once it is over."""
    if ends_at <= now:
        return 0
    return (last_usable_day(ends_at, zone) - local_date(now, zone)).days + 1


def spend_text(minor: int, currency: str | None) -> int | str:
    """A progress number as the API shows it: money (a spend goal's, ``currency`` given) as a decimal string."""
    return minor if currency is None else format_amount(from_minor(minor, currency), currency)


# --- domain events ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True)
class ChallengeJoined(DomainEvent):
    """A member opted in to a challenge."""

    type: ClassVar[str] = "challenge.joined"

    challenge: str
    ends_at: datetime | None


@dataclass(frozen=True, kw_only=True)
class ChallengeProgressed(DomainEvent):
    """An event (or a refund, taking progress away) changed a member's progress in a challenge not completed yet."""

    type: ClassVar[str] = "challenge.progressed"

    challenge: str
    period: str
    current: int
    target: int
    currency: str | None = None
    """For a spend goal: ``current`` and ``target`` are minor units of it."""
    ends_at: datetime | None = None

    def effects(self) -> list[dict[str, JSON]]:
        current, target = spend_text(self.current, self.currency), spend_text(self.target, self.currency)
        return [{"type": "challenge_progressed", "challenge": self.challenge, "current": current, "target": target}]


@dataclass(frozen=True, kw_only=True)
class ChallengeCompleted(DomainEvent):
    """A member reached a challenge's goal and got its prize (the points are also a ``points.earned``)."""

    type: ClassVar[str] = "challenge.completed"

    challenge: str
    period: str
    points: int
    reward: str | None
    coupon: str | None
    badge: str | None
    final_at: datetime | None
    """Until then a refund that takes the goal away reverses it (the completing order's return window)."""
    event: str | None = None

    def effects(self) -> list[dict[str, JSON]]:
        prize = {"points": self.points, "reward": self.reward, "coupon": self.coupon, "badge": self.badge}
        return [{"type": "challenge_completed", "challenge": self.challenge, **prize}]


@dataclass(frozen=True, kw_only=True)
class ChallengeReversed(DomainEvent):
    """A refund inside the return window took a completed challenge's goal away: its prize is taken back (the
    points as a ``points.revoked``; the coupon if unused; the badge)."""

    type: ClassVar[str] = "challenge.reversed"

    challenge: str
    period: str
    order_id: str
    coupon_revoked: bool
    badge: str | None

    def effects(self) -> list[dict[str, JSON]]:
        return [{"type": "challenge_reversed", "challenge": self.challenge, "order_id": self.order_id}]


@dataclass(frozen=True, kw_only=True)
class StreakExtended(DomainEvent):
    """A member's streak counts one more period; at a milestone, with its prize."""

    type: ClassVar[str] = "streak.extended"

    streak: str
    length: int
    milestone: bool
    points: int = 0
    reward: str | None = None
    coupon: str | None = None
    badge: str | None = None

    def effects(self) -> list[dict[str, JSON]]:
        effect: dict[str, JSON] = {"type": "streak_extended", "streak": self.streak, "length": self.length}
        if self.milestone:
            prize = {"points": self.points, "reward": self.reward, "coupon": self.coupon, "badge": self.badge}
            effect |= {"milestone": True, **prize}
        return [effect]


@dataclass(frozen=True, kw_only=True)
class StreakReversed(DomainEvent):
    """A refund inside the return window took away a period a streak's milestone counted: its prize is taken back."""

    type: ClassVar[str] = "streak.reversed"

    streak: str
    length: int
    """The milestone's length."""
    order_id: str
    coupon_revoked: bool
    badge: str | None

    def effects(self) -> list[dict[str, JSON]]:
        return [{"type": "streak_reversed", "streak": self.streak, "length": self.length, "order_id": self.order_id}]


@dataclass(frozen=True, kw_only=True)
class BadgeAwarded(DomainEvent):
    """A member earned a badge for the first time, or reached a new level of it."""

    type: ClassVar[str] = "badge.awarded"

    badge: str
    level: Finish
    times: int
    cause: str
    """What earned it: ``challenge:<code>`` or ``streak:<code>``."""

    def effects(self) -> list[dict[str, JSON]]:
        return [{"type": "badge_awarded", "badge": self.badge, "level": self.level.value}]


@dataclass(frozen=True, kw_only=True)
class BadgeRevoked(DomainEvent):
    """What earned a badge (or its level) was reversed: the member holds it at ``level`` now (``None``: not at all)."""

    type: ClassVar[str] = "badge.revoked"

    badge: str
    level: Finish | None
    times: int
    cause: str

    def effects(self) -> list[dict[str, JSON]]:
        level = self.level.value if self.level is not None else None
        return [{"type": "badge_revoked", "badge": self.badge, "level": level}]
