"""The program file's ``causes`` section (docs/program-file.md), turned into ``cause.domain.Cause``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Self

from pydantic import Field, model_validator

from punchcard.cause.domain import Cause, Matching, MatchPeriod
from punchcard.i18n.text import Text
from punchcard.program.file_types import Code, LocalText, OptionalLocalText, Strict, unique
from punchcard.program.wallet_schemas import Amount, minor

PointValue = Annotated[Decimal, Field(gt=0, le=1000, allow_inf_nan=False)]


class MatchingSpec(Strict):
    ratio: Annotated[Decimal, Field(gt=0, le=10, allow_inf_nan=False)] = Decimal(1)
    """The shop adds this much per unit of a donation's value (1: one to one)."""
    budget: Amount
    """At most this much matching in a period, in the program's currency."""
    per: MatchPeriod = MatchPeriod.MONTH


class ActiveSpec(Strict):
    from_: date | None = Field(None, alias="from")
    until: date | None = None


class CauseSpec(Strict):
    code: Code
    name: LocalText
    description: OptionalLocalText = ""
    image_url: Annotated[str, Field(pattern=r"^https://", max_length=500)] | None = None
    point_value: PointValue
    """What one donated point is worth to the cause, in the program's currency."""
    active: ActiveSpec = ActiveSpec()
    goal: Amount | None = None
    match: MatchingSpec | None = None

    @model_validator(mode="after")
    def _active_in_order(self) -> Self:
        if self.active.from_ and self.active.until and self.active.until < self.active.from_:
            raise ValueError(f"cause {self.code!r}: active.until is before active.from")
        return self

    def to_domain(self, currency: str, language: str) -> Cause:
        match = self.match
        return Cause(
            code=self.code,
            name=Text.of(self.name, language),
            description=Text.of(self.description, language),
            point_value=self.point_value,
            image_url=self.image_url,
            starts_on=self.active.from_,
            ends_on=self.active.until,
            goal_minor=minor(self.goal, currency, f"cause {self.code}: goal") if self.goal is not None else None,
            matching=(
                Matching(match.ratio, minor(match.budget, currency, f"cause {self.code}: match.budget"), match.per)
                if match is not None
                else None
            ),
        )


def check_causes(causes: list[CauseSpec]) -> None:
    unique([cause.code for cause in causes], "cause")
