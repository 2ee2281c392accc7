"""Pure Web Push rules: what a notification carries, the VAPID claims that sign it, what each answer of a push
service means, what becomes of the mail behind it, and which device keys can be used at all.

Nothing here reads a clock, a setting or the database, and nothing here does cryptography or I/O: ``keys`` and
``transport`` do, around maintained libraries.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

TTL = timedelta(days=1)
"""How long a push service keeps a notification for a device that is offline: a day-old "you earned points" is
still worth reading, and member mail is not sent at all about anything older than two days."""
TOKEN_LIFETIME = timedelta(hours=12)
"""How long a VAPID token is valid (RFC 8292 allows at most 24 hours)."""
BODY_MAX = 180
"""About the most a notification shows on a phone's lock screen before it cuts the text itself."""
TIMEOUT_SECONDS = 10.0
"""How long a push service may take to answer; a timeout is a failure like a 500."""


@dataclass(frozen=True)
class Notification:
    """What the service worker shows: ``tag`` names the mail, so a push sent again replaces its notification on the
    device instead of showing a second one."""

    title: str
    body: str
    url: str
    tag: str
    language: str

    def payload(self) -> bytes:
        """The JSON the service worker reads (encrypted before it leaves; ``docs/push.md``)."""
        found = {"title": self.title, "body": self.body, "url": self.url, "tag": self.tag, "lang": self.language}
        return json.dumps(found, ensure_ascii=False, separators=(",", ":")).encode()


def shorten(text: str, limit: int = BODY_MAX) -> str:
    """``text`` on one line, cut at a word boundary to at most ``limit`` characters with an ellipsis when too long."""
    line = " ".join(text.split())
    if len(line) <= limit:
        return line
    cut = line[: limit - 1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:.-–—") + "…"


def origin(endpoint: str) -> str:
    """The endpoint's origin (``https://push.example.net``, with a port if it names one): the VAPID ``aud``."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme.lower()}://{parts.netloc.lower().rsplit('@', 1)[-1]}"


def claims(endpoint: str, subject: str, now: datetime) -> dict[str, str | int]:
    """The VAPID claims for a push to ``endpoint`` (RFC 8292 §2): for that push service, valid for 12 hours from
    ``now``, naming whom its operators may contact (``mailto:`` the sender address)."""
    return {"aud": origin(endpoint), "exp": int((now + TOKEN_LIFETIME).timestamp()), "sub": subject}


class Result(StrEnum):
    """What a push service's answer means for one device."""

    DELIVERED = "delivered"
    GONE = "gone"
    """The subscription has ended (404, 410): the device is forgotten."""
    TRY_AGAIN = "try_again"
    """The service is busy or down, or did not answer (429, 5xx, a timeout): the same push may go through later."""
    REFUSED = "refused"
    """The service refused this push (another 4xx) or the endpoint may not be reached: sending it again is no use."""


def result_of(status_code: int | None) -> Result:
    """What an HTTP status (``None``: no answer at all) means (RFC 8030 §5, RFC 8292 §4)."""
    if status_code is None or status_code in (408, 425, 429) or status_code >= 500:
        return Result.TRY_AGAIN
    if 200 <= status_code < 300:
        return Result.DELIVERED
    if status_code in (404, 410):
        return Result.GONE
    return Result.REFUSED


@dataclass(frozen=True)
class Attempt:
    """One device's answer to one push."""

    subscription_id: int
    result: Result
    status_code: int | None
    error: str = ""
    retry_after: timedelta | None = None
    """How long the push service asked us to wait (``Retry-After``), if it did."""


class Verdict(StrEnum):
    SENT = "sent"
    TRY_AGAIN = "try_again"
    NO_DEVICE = "no_device"
    REFUSED = "refused"


@dataclass(frozen=True)
class Outcome:
    """What becomes of the mail a push carried, and why."""

    verdict: Verdict
    reason: str = ""
    retry_after: timedelta | None = None


def outcome(attempts: Sequence[Attempt]) -> Outcome:
    """The mail is sent when at least one device took it (the member has it: a device that failed then is not
    tried again, since a second push would re-announce it on the others); else it is tried again if any device may
    take it later; else dropped when every device is gone; else it failed."""
    delivered = [attempt for attempt in attempts if attempt.result is Result.DELIVERED]
    if delivered:
        missed = [attempt for attempt in attempts if attempt.result is not Result.DELIVERED]
        if not missed:
            return Outcome(Verdict.SENT)
        return Outcome(Verdict.SENT, f"reached {len(delivered)} of {len(attempts)} devices; {missed[0].error}"[:200])
    later = [attempt for attempt in attempts if attempt.result is Result.TRY_AGAIN]
    if later:
        waits = [attempt.retry_after for attempt in later if attempt.retry_after is not None]
        return Outcome(Verdict.TRY_AGAIN, later[0].error, max(waits) if waits else None)
    refused = [attempt for attempt in attempts if attempt.result is Result.REFUSED]
    if refused:
        return Outcome(Verdict.REFUSED, refused[0].error)
    statuses = sorted({str(attempt.status_code) for attempt in attempts})
    return Outcome(Verdict.NO_DEVICE, f"every device unsubscribed (the push service answered {', '.join(statuses)})")


def retry_after(header: str | None) -> timedelta | None:
    """A ``Retry-After`` in seconds, at most a day (a date there is read as no wish)."""
    if header is None or not header.strip().isdigit():
        return None
    return min(timedelta(seconds=int(header.strip())), timedelta(days=1))


_BASE64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")


def decode(value: str) -> bytes | None:
    """Base64url (padded or not, as browsers give it) to bytes; ``None`` when it is not that."""
    if not _BASE64URL.fullmatch(value):
        return None
    try:
        return base64.urlsafe_b64decode(value.rstrip("=") + "=" * (-len(value.rstrip("=")) % 4))
    except (binascii.Error, ValueError):
        return None


def encode(raw: bytes) -> str:
    """Bytes to unpadded base64url, the form browsers and push services use."""
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


POINT_BYTES = 65
AUTH_BYTES = 16


def key_problems(p256dh: str, auth: str) -> list[dict[str, str]]:
    """What is wrong with a subscription's keys, by field (``keys.p256dh``, ``keys.auth``): the device's public key
    is an uncompressed P-256 point (65 bytes, the first 0x04), its secret 16 bytes (RFC 8291 §3)."""
    problems = []
    point = decode(p256dh)
    if point is None or len(point) != POINT_BYTES or point[0] != 4:
        problems.append({"field": "keys.p256dh", "message": "must be an uncompressed P-256 public key, base64url"})
    secret = decode(auth)
    if secret is None or len(secret) != AUTH_BYTES:
        problems.append({"field": "keys.auth", "message": "must be 16 bytes, base64url"})
    return problems


def host_of(endpoint: str) -> str:
    """The push service's host: what the console shows of where a push went (the rest is the device's secret)."""
    return urlsplit(endpoint).hostname or ""
