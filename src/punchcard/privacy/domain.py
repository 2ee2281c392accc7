"""Privacy's rules, pure: who asks for an export or an erasure, the event an erasure publishes, and since when a
member must have done nothing to count as inactive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from punchcard.kit.events import DomainEvent

EXPORT_FORMAT = "punchcard.member-export"
EXPORT_VERSION = 1
"""The export document's format and its version: a change that removes or renames a key gets a new version."""


class Source(StrEnum):
    """Where an export or an erasure was asked."""

    API = "api"
    CLI = "cli"
    PORTAL = "portal"
    """The member themself (their own data, downloaded from the portal)."""
    SHOP = "shop"
    """A shop platform's privacy webhook (Shopify's ``customers/redact`` and ``shop/redact``)."""
    RETENTION = "retention"
    """The scheduled jobs, for a member inactive longer than the program keeps data (``privacy`` in its file)."""


@dataclass(frozen=True)
class Requester:
    """Who asks: a staff account when there is one, and the way the request came."""

    source: Source
    staff_id: int | None = None


@dataclass(frozen=True, kw_only=True)
class MemberErased(DomainEvent):
    """The member's personal data was erased; the envelope names them by the pseudonym that replaced their external
    id. Nothing more happens to them: this is the last event about them."""

    type: ClassVar[str] = "member.erased"

    source: Source


def inactive_since(at: datetime, years: int) -> datetime:
    """The moment ``years`` calendar years before ``at`` (29 February falls back to the 28th): a member with no
    activity since then is inactive."""
    try:
        return at.replace(year=at.year - years)
    except ValueError:
        return at.replace(year=at.year - years, day=28)
