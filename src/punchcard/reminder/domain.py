"""Pure reminder rules: which notice a coming expiry gets. When a birthday falls is ``kit.calendar.anniversaries_on``.

A reminder is announced once: its ``key`` names what it is about (an expiry moment and the notice's days, a coupon,
a year), and a second run of the jobs finds the key taken and announces nothing more.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Kind(StrEnum):
    POINTS_EXPIRING = "points_expiring"
    COUPON_EXPIRING = "coupon_expiring"
    BIRTHDAY = "birthday"


@dataclass(frozen=True)
class Reminders:
    """How early members are told (the program file's ``reminders``)."""

    points_expiring_days: tuple[int, ...] = (30, 7)
    coupon_expiring_days: tuple[int, ...] = (7,)

    @property
    def points_horizon(self) -> int:
        return max(self.points_expiring_days, default=0)

    @property
    def coupon_horizon(self) -> int:
        return max(self.coupon_expiring_days, default=0)


def notice(days_left: float, notices: tuple[int, ...]) -> tuple[int, tuple[int, ...]] | None:
    """The notice to give for something ``days_left`` days away, and every notice it stands for: the nearest one
    that has come (30 and 7 days before, seen 5 days before: the 7-day notice, and the 30-day one is not given
    after it); ``None`` when none has come."""
    due = sorted(days for days in notices if days_left <= days)
    return (due[0], tuple(due)) if due else None


def notice_key(expires_at: datetime, days: int) -> str:
    return f"{expires_at.isoformat()}/{days}"
