"""The program file's ``coalition`` section (docs/program-file.md), turned into ``program.domain.CoalitionMembership``
(what ``punchcard.coalition`` forms coalitions from)."""

from __future__ import annotations

from typing import Annotated, Self

from pydantic import Field, model_validator

from punchcard.program.domain import CoalitionFounding, CoalitionMembership
from punchcard.program.file_types import Code, Strict, unique
from punchcard.program.wallet_schemas import Amount, minor


class FoundingSpec(Strict):
    unit_value: Amount
    """What one coalition unit is worth in this (the owner's) program's currency: the settlement's price."""
    partners: Annotated[list[Code], Field(max_length=100)] = []
    """The slugs of the programs admitted; each joins by naming the coalition in its own file."""


class CoalitionSpec(Strict):
    code: Code
    points_per_unit: Annotated[int, Field(ge=1, le=1_000_000)]
    """How many of this program's points make one coalition unit (a whole number, so no exchange is rounded)."""
    owner: FoundingSpec | None = None
    """Only in the file of the program that founds the coalition."""

    @model_validator(mode="after")
    def _partners_unique(self) -> Self:
        if self.owner is not None:
            unique(self.owner.partners, "coalition partner")
        return self

    def to_domain(self, currency: str) -> CoalitionMembership:
        founding = self.owner
        return CoalitionMembership(
            code=self.code,
            points_per_unit=self.points_per_unit,
            founding=(
                CoalitionFounding(
                    minor(founding.unit_value, currency, "coalition: owner.unit_value"), tuple(founding.partners)
                )
                if founding is not None
                else None
            ),
        )
