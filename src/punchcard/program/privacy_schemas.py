"""The program file's ``privacy`` section (docs/program-file.md): how long the data of inactive members is kept,
turned into ``program.domain.Retention``."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from punchcard.program.domain import Retention
from punchcard.program.file_types import Strict


class PrivacySpec(Strict):
    erase_inactive_after_years: Annotated[int, Field(ge=1, le=100)] | None = None
    """Erase members with no activity (an event, a spend, a portal sign-in) for this many years; none: keep."""

    def to_domain(self) -> Retention:
        return Retention(self.erase_inactive_after_years)
