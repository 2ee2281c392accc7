"""The program file's challenges, badges and streaks (``challenge.domain``); documented in docs/program-file.md.

Cross-checks that need the rest of the file (a prize's badge and reward must exist) are ``check_prizes``, called by
``ProgramFile``'s validators so that an error names the field it is about.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Literal, Self

from pydantic import Field, NonNegativeInt, PositiveInt, model_validator

from punchcard.challenge import domain
from punchcard.i18n.text import Text
from punchcard.kit.money import to_minor
from punchcard.program.file_types import Code, LineSelector, LocalText, OptionalLocalText, Strict
from punchcard.rules.domain import MEMBER_ENROLLED, PURCHASE, REFUND

GameCode = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,52}$")]
"""A code like the others, a little shorter: a prize's points carry it as ``challenge:<code>`` (63 at most)."""
EventType = Annotated[str, Field(min_length=1, max_length=63, pattern=r"^[a-z][a-z0-9_]*$")]
Count = Annotated[int, Field(ge=1, le=1_000_000)]


class PrizeSpec(Strict):
    """What completing gives; at least one of them."""

    points: Annotated[int, Field(ge=0, le=1_000_000)] = 0
    reward: Code | None = None
    """A reward of ``rewards``, whose coupon is given without spending points."""
    badge: Code | None = None
    """A badge of ``badges``."""

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.points and self.reward is None and self.badge is None:
            raise ValueError("give points, a reward, a badge, or several")
        return self

    def to_domain(self) -> domain.Prize:
        return domain.Prize(self.points, self.reward, self.badge)


class Qualifying(Strict):
    """Which events count: ``when`` (an event type; purchases by default) and, for purchases, ``lines`` and
    ``min_order``."""

    when: EventType = PURCHASE
    lines: LineSelector = LineSelector()
    min_order: Annotated[Decimal, Field(ge=0, allow_inf_nan=False)] = Decimal(0)

    @model_validator(mode="after")
    def _countable(self) -> Self:
        if self.when in (REFUND, MEMBER_ENROLLED):
            raise ValueError(f"when: {self.when!r} cannot count (refunds take progress away by themselves)")
        if self.when != PURCHASE and (self.lines != LineSelector() or self.min_order):
            raise ValueError("lines and min_order apply to purchases only")
        return self

    def qualifier(self, currency: str) -> domain.Qualifier:
        return domain.Qualifier(self.when, self.lines.to_domain(), to_minor(self.min_order, currency))


class GoalSpec(Strict):
    """Exactly one of them."""

    count: Count | None = None
    spend: Annotated[Decimal, Field(gt=0, allow_inf_nan=False)] | None = None
    """In the program's currency."""
    categories: Count | None = None
    skus: Count | None = None
    days: Count | None = None

    @model_validator(mode="after")
    def _one_goal(self) -> Self:
        if sum(value is not None for value in (self.count, self.spend, self.categories, self.skus, self.days)) != 1:
            raise ValueError("give exactly one of: count, spend, categories, skus, days")
        return self

    def to_domain(self, currency: str) -> domain.Goal:
        if self.spend is not None:
            return domain.Goal(domain.GoalKind.SPEND, to_minor(self.spend, currency))
        for kind in (domain.GoalKind.COUNT, domain.GoalKind.CATEGORIES, domain.GoalKind.SKUS, domain.GoalKind.DAYS):
            target: int | None = getattr(self, kind.value)
            if target is not None:
                return domain.Goal(kind, target)
        raise AssertionError("validated: exactly one goal")


class WindowSpec(Strict):
    """``from`` and ``until`` (local dates, both included), or ``days`` (from the member's start), or ``every``
    (``week`` or ``month``: each calendar period a challenge of its own)."""

    from_: date | None = Field(None, alias="from")
    until: date | None = None
    days: Annotated[int, Field(ge=1, le=3660)] | None = None
    every: domain.Cadence | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> Self:
        fixed = self.from_ is not None or self.until is not None
        if sum((fixed, self.days is not None, self.every is not None)) != 1:
            raise ValueError("give from and until, or days, or every")
        if fixed and (self.from_ is None or self.until is None):
            raise ValueError("a fixed window needs both from and until")
        if self.from_ is not None and self.until is not None and self.until < self.from_:
            raise ValueError("until is before from")
        return self

    def to_domain(self) -> domain.Window:
        if self.days is not None:
            return domain.Window(domain.WindowKind.ROLLING, days=self.days)
        if self.every is not None:
            return domain.Window(domain.WindowKind.RECURRING, every=self.every)
        return domain.Window(domain.WindowKind.FIXED, self.from_, self.until)


class ChallengeSpec(Qualifying):
    code: GameCode
    name: LocalText
    description: OptionalLocalText = ""
    goal: GoalSpec
    window: WindowSpec
    opt_in: bool = False
    prize: PrizeSpec

    @model_validator(mode="after")
    def _lines_for_line_goals(self) -> Self:
        if self.when != PURCHASE and self.goal.count is None and self.goal.days is None:
            raise ValueError("a spend, categories or skus goal counts purchases (when: purchase)")
        return self

    def to_domain(self, currency: str, language: str) -> domain.Challenge:
        return domain.Challenge(
            code=self.code,
            name=Text.of(self.name, language),
            description=Text.of(self.description, language),
            goal=self.goal.to_domain(currency),
            qualifier=self.qualifier(currency),
            window=self.window.to_domain(),
            prize=self.prize.to_domain(),
            opt_in=self.opt_in,
        )


class StreakSpec(Qualifying):
    code: GameCode
    name: LocalText
    description: OptionalLocalText = ""
    every: domain.Cadence
    milestone: Annotated[int, Field(ge=1, le=520)]
    """Periods in a row that earn the reward."""
    repeat: bool = False
    """The reward again at every further ``milestone`` periods."""
    freezes: Annotated[NonNegativeInt, Field(le=12)] = 0
    """Missed periods a run survives (0: one missed period ends it)."""
    prize: PrizeSpec

    def to_domain(self, currency: str, language: str) -> domain.Streak:
        return domain.Streak(
            code=self.code,
            name=Text.of(self.name, language),
            description=Text.of(self.description, language),
            every=self.every,
            qualifier=self.qualifier(currency),
            milestone=self.milestone,
            prize=self.prize.to_domain(),
            repeat=self.repeat,
            freezes=self.freezes,
        )


class BadgeSpec(Strict):
    code: Code
    name: LocalText
    description: OptionalLocalText = ""
    shape: domain.Shape = domain.Shape.CIRCLE
    levels: dict[Literal["bronze", "silver", "gold"], PositiveInt] = {}
    """How many times it must be earned for each level; none: earned once."""

    @model_validator(mode="after")
    def _levels_ascend(self) -> Self:
        needed = [self.levels[level] for level in ("bronze", "silver", "gold") if level in self.levels]
        if any(later <= earlier for earlier, later in pairwise(needed)):
            raise ValueError("levels must need more times from bronze to silver to gold")
        return self

    def to_domain(self, language: str) -> domain.Badge:
        levels = tuple((level, self.levels[level.value]) for level in domain.LEVELS if level.value in self.levels)
        return domain.Badge(
            self.code, Text.of(self.name, language), Text.of(self.description, language), self.shape, levels
        )


def check_prizes(
    kind: str, games: list[ChallengeSpec] | list[StreakSpec], badges: list[str] | None, rewards: list[str] | None
) -> None:
    """Each prize's badge and reward must exist (``None``: that part of the file was invalid, reported already)."""
    for game in games:
        prize = game.prize
        if badges is not None and prize.badge is not None and prize.badge not in badges:
            raise ValueError(f"{kind} {game.code!r}: badge {prize.badge!r} is not one of the badges")
        if rewards is not None and prize.reward is not None and prize.reward not in rewards:
            raise ValueError(f"{kind} {game.code!r}: reward {prize.reward!r} is not one of the rewards")
