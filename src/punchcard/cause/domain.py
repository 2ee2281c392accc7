"""Points for a cause, pure: the causes a program lists, what a donated point is worth to them, the shop's matching
within its budget, and the standing gifts members set (round the balance down to a multiple and give the rest, or a
share of every earning).

A donation spends points like a redemption (soonest-expiring first); its money value is the points times the cause's
``point_value``, rounded down to the minor unit. Nothing here reads a database or a clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum
from typing import ClassVar
from zoneinfo import ZoneInfo

from punchcard.i18n.text import Text
from punchcard.kit.calendar import local_date
from punchcard.kit.events import JSON, DomainEvent
from punchcard.kit.money import exponent

DONATED = "Donated to "
"""How the ledger describes a donation, before the cause's name (the portal's history reads the name back)."""


class Refusal(StrEnum):
    """Why a donation or a standing gift is refused; each is an error code (``cause.errors``, docs/errors.md)."""

    CAUSE_NOT_FOUND = "cause_not_found"
    CAUSE_CLOSED = "cause_closed"


class CauseRefused(Exception):
    def __init__(self, refusal: Refusal, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal
        self.message = message


class MatchPeriod(StrEnum):
    MONTH = "month"
    YEAR = "year"
    TOTAL = "total"


@dataclass(frozen=True)
class Matching:
    """The shop adds ``ratio`` × each donation's value, until ``budget_minor`` is used up in the ``period``."""

    ratio: Decimal
    budget_minor: int
    period: MatchPeriod = MatchPeriod.MONTH

    def period_key(self, moment: datetime, zone: ZoneInfo) -> str:
        """Which budget a donation at ``moment`` draws on: ``2026-11``, ``2026`` or ``all``."""
        day = local_date(moment, zone)
        if self.period is MatchPeriod.MONTH:
            return f"{day.year:04d}-{day.month:02d}"
        return f"{day.year:04d}" if self.period is MatchPeriod.YEAR else "all"

    def matched(self, value_minor: int, used_minor: int) -> int:
        """What the shop adds to a donation worth ``value_minor`` when ``used_minor`` of the period's budget is
        spent: the ratio's share, rounded down, never past the budget."""
        share = int((value_minor * self.ratio).to_integral_value(rounding=ROUND_FLOOR))
        return max(0, min(share, self.budget_minor - used_minor))


@dataclass(frozen=True)
class Cause:
    code: str
    name: Text
    description: Text
    point_value: Decimal
    """What one donated point is worth to the cause, in the program's currency."""
    image_url: str | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    goal_minor: int | None = None
    matching: Matching | None = None

    def is_open(self, moment: datetime, zone: ZoneInfo) -> bool:
        """Whether it takes donations at ``moment``: from its first local day to its last, both included."""
        day = local_date(moment, zone)
        return (self.starts_on is None or self.starts_on <= day) and (self.ends_on is None or day <= self.ends_on)

    def worth(self, points: int, currency: str) -> int:
        """The money value of ``points`` donated, in minor units, rounded down."""
        exact = Decimal(points) * self.point_value * Decimal(10) ** exponent(currency)
        return int(exact.to_integral_value(rounding=ROUND_FLOOR))


def open_cause(causes: tuple[Cause, ...], code: str, moment: datetime, zone: ZoneInfo) -> Cause:
    """The cause ``code`` if it takes donations now; raises ``CauseRefused`` otherwise."""
    cause = next((cause for cause in causes if cause.code == code), None)
    if cause is None:
        raise CauseRefused(Refusal.CAUSE_NOT_FOUND, f"the program has no cause {code!r}")
    if not cause.is_open(moment, zone):
        raise CauseRefused(Refusal.CAUSE_CLOSED, f"the cause {code!r} takes no donations now")
    return cause


@dataclass(frozen=True)
class Terms:
    """What donating needs of a program version."""

    program_id: int
    version: int
    currency: str
    zone: ZoneInfo
    causes: tuple[Cause, ...]


class GiftKind(StrEnum):
    ROUND_DOWN = "round_down"
    """Keep the balance at a multiple of ``value`` (100: 1 234 points become 1 200) and give the rest."""
    PERCENT = "percent"
    """Give ``value`` per cent of every earning, rounded down."""


@dataclass(frozen=True)
class StandingGift:
    """A member's standing instruction to give points to ``cause`` as they earn them."""

    cause: str
    kind: GiftKind
    value: int
    after_event: int = 0
    """The newest outbox event when the member set it: earnings told before then are not its business."""

    def points_to_give(self, earned: int, available: int) -> int:
        """What to give after an earning of ``earned`` points that left ``available`` spendable: never more than is
        available, nothing when nothing was earned."""
        if earned <= 0 or available <= 0:
            return 0
        if self.kind is GiftKind.ROUND_DOWN:
            return min(available % self.value, available)
        return min(earned * self.value // 100, available)


@dataclass(frozen=True)
class Totals:
    """A cause's donations in a period: points, their value, the shop's matching, and how many members gave."""

    points: int = 0
    value_minor: int = 0
    matched_minor: int = 0
    donors: int = 0

    @property
    def given_minor(self) -> int:
        return self.value_minor + self.matched_minor


@dataclass(frozen=True, kw_only=True)
class CauseDonated(DomainEvent):
    """A member gave ``points`` to ``cause``, worth ``value_minor``; the shop added ``matched_minor``. ``source``:
    ``api``, ``portal`` or ``standing`` (the member's standing gift, after an earning)."""

    type: ClassVar[str] = "cause.donated"
    member_id: int
    cause: str
    points: int
    value_minor: int
    matched_minor: int
    currency: str
    source: str

    def effects(self) -> list[dict[str, JSON]]:
        return [{"type": "donated", "cause": self.cause, "points": self.points}]
