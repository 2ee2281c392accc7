"""What a member's wallet pass shows, and the rules that keep a pass current: which events change it, how its
update tag and modification time move, what the wallets' servers' answers mean, and when a failed update is tried
again.

Pure: nothing here reads a clock, a setting or the database, and nothing does cryptography or I/O. Whichever wallet
holds the card, it shows the same ``Card``; ``apple`` and ``google`` put it in their formats.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import format_datetime, parsedate_to_datetime
from enum import StrEnum

from punchcard.cause.domain import CauseDonated
from punchcard.coalition.domain import PointsReceived, PointsSent
from punchcard.ledger.domain import PointsAdjusted, PointsEarned, PointsExpired, PointsReversed, PointsRevoked
from punchcard.member.domain import MemberUpdated
from punchcard.reward.domain import RewardRedeemed
from punchcard.tier.domain import TierDowngraded, TierUpgraded
from punchcard.wallet.events import PointsConverted

CHANGING_EVENTS = frozenset(
    event.type
    for event in (
        PointsEarned,
        PointsReversed,
        PointsRevoked,
        PointsAdjusted,
        PointsExpired,
        RewardRedeemed,
        PointsConverted,
        CauseDonated,
        PointsSent,
        PointsReceived,
        TierUpgraded,
        TierDowngraded,
        MemberUpdated,
    )
)
"""The events after which a member's pass may show something else: the points to spend, the tier, the name.
(Pending points that vest publish no event: the pass shows them from the next event on.)"""


@dataclass(frozen=True)
class Word:
    """One text a pass shows: ``english`` is what the pass itself carries (a device in a language we have no
    catalogue for shows it), ``by_language`` what each catalogue language shows instead."""

    english: str
    by_language: tuple[tuple[str, str], ...]

    def in_language(self, language: str) -> str:
        return dict(self.by_language).get(language, self.english)


@dataclass(frozen=True)
class Labels:
    """The pass's own words: the portal's, so that a member reads the same on the card page and in the wallet."""

    description: Word
    balance: Word
    tier: Word
    holder: Word
    number: Word


@dataclass(frozen=True)
class Card:
    """What a member's pass shows, in any wallet."""

    serial_number: str
    """Stable for the member's pass and random: it names the pass to the wallets and is no member id."""
    number: str
    """The member's number (their external id): the barcodes carry it, as the portal's card does."""
    holder: str
    """Who the card is for, as the portal's card names them: the name, else the e-mail address, else the number."""
    balance: int
    """Points to spend."""
    tier: Word | None
    program: Word
    program_slug: str
    colour: str
    """The program's colour, ``#rrggbb``."""
    labels: Labels


def code128_encodable(number: str) -> bool:
    """Whether a Code 128 barcode can carry the number (code set B: printable ASCII), as on the portal's card."""
    return bool(number) and all(32 <= ord(char) <= 126 for char in number)


def rgb(colour: str) -> tuple[int, int, int]:
    """``#rrggbb`` as three bytes; anything else is the portal's brown."""
    digits = colour.lstrip("#")
    if len(digits) != 6 or any(char not in "0123456789abcdefABCDEF" for char in digits):
        digits = "6b3e26"
    return int(digits[0:2], 16), int(digits[2:4], 16), int(digits[4:6], 16)


# --- Apple's web service --------------------------------------------------------------------------------------------

AUTHORIZATION_SCHEME = "ApplePass"


def authentication_token(header: str | None) -> str | None:
    """The pass's token from ``Authorization: ApplePass <token>``; ``None`` when the header is not of that form."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme != AUTHORIZATION_SCHEME or not token.strip():
        return None
    return token.strip()


def since_tag(value: str | None) -> int | None:
    """The ``passesUpdatedSince`` a device sent (the ``lastUpdated`` we gave it before), or ``None``: every pass."""
    return int(value) if value is not None and value.isdigit() else None


def next_modified(previous: datetime | None, now: datetime) -> datetime:
    """When a pass that changes at ``now`` was last modified: whole seconds (HTTP dates have no fractions), and
    always after the time before, so a device holding the earlier version never hears 304 for the new one."""
    moment = now.replace(microsecond=0)
    return moment if previous is None or moment > previous else previous + timedelta(seconds=1)


def http_date(moment: datetime) -> str:
    return format_datetime(moment, usegmt=True)


def modified_since(modified_at: datetime, header: str | None) -> bool:
    """Whether the pass changed after the ``If-Modified-Since`` the device sent (no header, or one we cannot read:
    it did)."""
    if not header:
        return True
    try:
        since = parsedate_to_datetime(header)
    except (TypeError, ValueError):
        return True
    return since.tzinfo is None or modified_at > since


# --- the wallets' answers -------------------------------------------------------------------------------------------


class Result(StrEnum):
    """What a wallet server's answer to one update means."""

    DELIVERED = "delivered"
    GONE = "gone"
    """The device (APNs: 410, or a token it does not know) or the object (Google: 404, never saved) is not there:
    nothing to update, now or later."""
    TRY_AGAIN = "try_again"
    """Busy, down or no answer (429, 5xx, a timeout): the same update may go through later."""
    REFUSED = "refused"
    """Our request or credentials are wrong (another 4xx): sending it again is no use."""


GONE_TOKENS = frozenset({"BadDeviceToken", "Unregistered", "DeviceTokenNotForTopic"})
"""APNs' reasons that mean the push token is no use for this pass type: the registration is forgotten."""


def result_of(status: int | None, reason: str = "") -> Result:
    """An HTTP answer of APNs (with its JSON ``reason``) or of Google's Wallet API; ``None``: no answer."""
    if status is None or status in (408, 425, 429) or status >= 500:
        return Result.TRY_AGAIN
    if 200 <= status < 300:
        return Result.DELIVERED
    if status in (404, 410) or reason in GONE_TOKENS:
        return Result.GONE
    return Result.REFUSED


@dataclass(frozen=True)
class Answer:
    """One update's outcome, as an adapter reports it."""

    result: Result
    status: int | None
    error: str = ""


MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)


def retry_at(now: datetime, attempts: int) -> datetime | None:
    """When to try a failed update again after ``attempts`` failures: a minute, doubling, at most an hour apart;
    ``None`` after ``MAX_ATTEMPTS`` (the update is given up: the next change tries again)."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + min(FIRST_RETRY * (1 << (attempts - 1)), LONGEST_WAIT)
