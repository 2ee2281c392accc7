"""Member events (pure): a member joined, or their profile or status changed."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import date
from typing import ClassVar

from punchcard.kit.events import JSON, DomainEvent

ACTIVE, BLOCKED, ERASED = "active", "blocked", "erased"
"""A member's ``status``: a blocked member earns and redeems nothing until unblocked; an erased one's personal data is
gone and nothing happens to them again (``punchcard.privacy``)."""


def pseudonym(key: str, external_id: str) -> str:
    """The external id an erased member is known by: a keyed hash of the one they had, so that the shop's later
    events for that id are recognised (and refused), while the pseudonym gives the id back to nobody without the
    program's key."""
    digest = hmac.new(key.encode(), external_id.encode(), hashlib.sha256).hexdigest()
    return f"erased-{digest[:32]}"


def shown_name(name: str | None) -> str | None:
    """A member as other members see them (a leaderboard, a referrer's friends, an invitation): the first name and
    the last name's initial ("Maria T."), never more; ``None`` without a name."""
    words = (name or "").split()
    if not words:
        return None
    return words[0] if len(words) == 1 else f"{words[0]} {words[-1][0].upper()}."


@dataclass(frozen=True, kw_only=True)
class MemberEnrolled(DomainEvent):
    """A member joined the program; ``occurred_at`` is their enrolment (in the past for imported members)."""

    type: ClassVar[str] = "member.enrolled"
    personal: ClassVar[tuple[str, ...]] = ("email", "name", "birth_date")

    email: str | None
    name: str | None
    birth_date: date | None
    language: str | None
    marketing_consent: bool
    tier: str | None
    """The entry tier, when the program has tiers."""


@dataclass(frozen=True, kw_only=True)
class MemberUpdated(DomainEvent):
    """Profile fields or the status changed: only the fields that changed, with their new values."""

    type: ClassVar[str] = "member.updated"
    personal: ClassVar[tuple[str, ...]] = ("changes.email", "changes.name", "changes.birth_date")

    changes: dict[str, JSON]


@dataclass(frozen=True, kw_only=True)
class MemberBirthday(DomainEvent):
    """The member's birthday has come, in the program's time zone (the scheduled jobs, once a year; a 29 February
    birthday is kept on 28 February in other years)."""

    type: ClassVar[str] = "member.birthday"
    personal: ClassVar[tuple[str, ...]] = ("birthday",)

    birthday: date
    """This year's date of it."""
