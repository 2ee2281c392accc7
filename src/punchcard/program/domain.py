"""A loyalty program as the engine sees it: a pure, immutable definition built from a validated program file."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from punchcard.ledger.domain import PointsPolicy
from punchcard.reward.domain import Reward
from punchcard.rules.domain import Rounding, Rule
from punchcard.tier.domain import TierPolicy


@dataclass(frozen=True)
class Program:
    slug: str
    name: str
    currency: str
    timezone: str
    languages: tuple[str, ...]
    rules: tuple[Rule, ...]
    points: PointsPolicy
    rewards: tuple[Reward, ...]
    tiers: TierPolicy | None = None
    rounding: Rounding = Rounding.DOWN
    point_value: Decimal = Decimal(0)
    """What one point costs the shop in its currency: values the outstanding points as a liability."""

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def reward(self, code: str) -> Reward | None:
        return next((reward for reward in self.rewards if reward.code == code), None)


@dataclass(frozen=True)
class ProgramVersion:
    """The definition in force for one program id, with the version number that ledger entries record."""

    program_id: int
    version: int
    program: Program
