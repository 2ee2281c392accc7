"""Pure webhook rules: the signature a receiver checks, when a failed delivery is tried again, when it is given up,
and when an endpoint that keeps failing is switched off. (Which addresses a webhook may not reach is
``kit.outbound``'s, shared with push notifications.)

The signature is Stripe's scheme, so a receiver verifies it the way it already verifies Stripe's: ``t`` is the
attempt's Unix time and ``v1`` the hex HMAC-SHA256 of ``"<t>.<raw body>"`` with the endpoint's secret. Each attempt
is signed afresh, so a receiver may refuse old timestamps (replays) without refusing our retries.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timedelta
from enum import StrEnum

TIMEOUT_SECONDS = 10.0
"""How long an attempt waits for the receiver's answer; a timeout is a failure like a 500."""
RETRY_WINDOW = timedelta(hours=72)
"""How long a delivery is tried for, from its first attempt; then it is marked failed."""
FIRST_RETRY = timedelta(seconds=30)
LONGEST_WAIT = timedelta(hours=6)
DISABLE_AFTER = timedelta(days=3)
"""An endpoint that has failed every attempt for this long is disabled: its receiver is gone, not down for a while."""
ALL = "*"
"""Subscribes an endpoint to every event type, present and future."""


class Status(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``Punchcard-Signature`` header's value for ``body`` sent at Unix time ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(secret: str, header: str, body: bytes, now: int, tolerance_seconds: int = 300) -> bool:
    """What a receiver does (``docs/webhooks.md``): ``v1`` matches, compared in constant time, and ``t`` is recent."""
    parts = {key.strip(): value for key, _, value in (part.partition("=") for part in header.split(","))}
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    expected = signature(secret, timestamp, body).split("v1=", 1)[1]
    return abs(now - timestamp) <= tolerance_seconds and hmac.compare_digest(expected, parts.get("v1", ""))


def next_attempt(first_attempt: datetime, attempts: int, now: datetime) -> datetime | None:
    """When to try again after the ``attempts``-th failure at ``now``: 30 s, doubling, at most 6 hours apart;
    ``None`` once the retry window from the first attempt has passed (the delivery has failed)."""
    if now - first_attempt >= RETRY_WINDOW:
        return None
    wait: timedelta = min(FIRST_RETRY * 2 ** min(attempts - 1, 20), LONGEST_WAIT)
    last_try: datetime = first_attempt + RETRY_WINDOW
    return min(now + wait, last_try)


def should_disable(failing_since: datetime | None, now: datetime) -> bool:
    return failing_since is not None and now - failing_since >= DISABLE_AFTER


def subscribed(events: list[str], event_type: str) -> bool:
    return ALL in events or event_type in events
