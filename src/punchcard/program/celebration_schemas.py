"""The program file's ``birthday`` and ``anniversary``: a gift of points and/or a catalogue reward's coupon, once a
year, given by the scheduled jobs (``celebration``)."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from punchcard.celebration.domain import Gift
from punchcard.program.file_types import GiftSpec

Days = Annotated[int, Field(ge=0, le=30)]


class AnniversarySpec(GiftSpec):
    """A gift on each anniversary of the member's enrolment (the first a year after it)."""

    days_before: Days = 0
    catch_up_days: Days = 7
    """A run of the jobs this many days late still gives it; a later one never does."""

    def to_domain(self) -> Gift:
        return Gift(self.points, self.reward, self.days_before, self.catch_up_days)


class BirthdaySpec(AnniversarySpec):
    """A gift on the member's birthday (28 February in common years for 29 February)."""

    min_days_since_birth_date_change: Annotated[int, Field(ge=0, le=366)] = 30
    """No gift when the birth date was changed fewer than this many days before the birthday."""

    def to_domain(self) -> Gift:
        return Gift(
            self.points, self.reward, self.days_before, self.catch_up_days, self.min_days_since_birth_date_change
        )
