"""Pure portal rules: token fingerprints, CSRF tokens, signed shop links, and what "soon" and "until" mean to a member.

Nothing here reads a clock, a setting or the database; ``now`` and secrets come in.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import ClassVar

from punchcard.kit.calendar import last_usable_day as last_usable_day
from punchcard.kit.events import DomainEvent

LINK_LIFETIME = timedelta(minutes=15)
"""How long an e-mailed sign-in link works (once)."""
SESSION_LIFETIME = timedelta(days=30)
"""How long a portal session lasts before the member signs in again."""
SHOP_LINK_HORIZON = timedelta(hours=24)
"""The furthest ahead a shop link's ``expires`` may be: a signed link is a password for one member, so it must be
short-lived even if a shop's code sets a careless expiry."""
EXPIRING_SOON = timedelta(days=30)
LINKS_PER_LIFETIME = 3
"""At most this many sign-in mails per member within one link lifetime: a form cannot be used to flood a mailbox."""


def fingerprint(token: str) -> str:
    """What is stored instead of a sign-in or session token."""
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(secret: str) -> str:
    """The CSRF token forms must carry: derived from the browser's own secret (its session token, or before sign-in a
    random cookie), so it is tied to that browser and needs no storage."""
    return hmac.new(secret.encode(), b"punchcard-portal-csrf", hashlib.sha256).hexdigest()


def csrf_valid(secret: str | None, submitted: str) -> bool:
    return bool(secret) and hmac.compare_digest(csrf_token(secret or ""), submitted)


def shop_signature(secret: str, slug: str, member: str, expires: int) -> str:
    """HMAC-SHA256 over ``slug:member:expires`` with the program's portal secret, as hex: what a shop computes."""
    return hmac.new(secret.encode(), f"{slug}:{member}:{expires}".encode(), hashlib.sha256).hexdigest()


class ShopLinkProblem(StrEnum):
    BAD_SIGNATURE = "bad_signature"
    EXPIRED = "expired"
    TOO_FAR_AHEAD = "too_far_ahead"


def check_shop_link(
    secret: str, slug: str, member: str, expires: int, signature: str, now: datetime
) -> ShopLinkProblem | None:
    """Why a shop link must be refused, or ``None``; the signature is compared in constant time."""
    if not hmac.compare_digest(shop_signature(secret, slug, member, expires), signature.lower()):
        return ShopLinkProblem.BAD_SIGNATURE
    if expires <= now.timestamp():
        return ShopLinkProblem.EXPIRED
    if expires > (now + SHOP_LINK_HORIZON).timestamp():
        return ShopLinkProblem.TOO_FAR_AHEAD
    return None


def expiring_soon(expiring: Sequence[tuple[datetime, int]], now: datetime) -> list[tuple[datetime, int]]:
    """The (expiry, points) pairs that fall within the next 30 days."""
    return [(moment, points) for moment, points in expiring if now < moment <= now + EXPIRING_SOON]


def valid_idempotency_key(key: str) -> bool:
    """A redemption form's key: what the page generated (URL-safe, 16 to 64 characters), nothing else."""
    return 16 <= len(key) <= 64 and all(char.isascii() and (char.isalnum() or char in "-_") for char in key)


@dataclass(frozen=True, kw_only=True)
class SignInLinkRequested(DomainEvent):
    """A member (on the portal) or support staff (in the console) asked for a one-time sign-in link by e-mail.

    The link itself is made when the mail is sent (``portal.consumers``), so no usable secret is ever stored in the
    outbox; ``request_id`` is the sign-in token row that the mail's link will open.
    """

    type: ClassVar[str] = "member.sign_in_link_requested"

    request_id: int
    language: str
    """The language of the page it was asked from: the mail's language when the member has none of their own."""
    source: str
    """``portal`` or ``console``."""
