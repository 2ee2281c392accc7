"""Push for the rest of the application: the program's public key for the portal, a member's devices turned on and
off, the devices a notification goes to, and what their push services answered.

Sending itself is the transport's (``Pusher``), run by member mail's sender (``mailing.sender``) between two
transactions: the devices and the key are read, the transaction ends, the pushes go out, and the answers are
recorded here in the next one.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.push import keys, repository
from punchcard.push.domain import Attempt, Result, key_problems
from punchcard.push.errors import PushKeysInvalid
from punchcard.push.keys import KeyPair as KeyPair
from punchcard.push.schemas import SubscriptionIn
from punchcard.push.transport import Device as Device
from punchcard.push.transport import Pusher as Pusher
from punchcard.push.transport import check_endpoint


def key_pair(session: Session, program_id: int, now: datetime) -> KeyPair:
    """The program's VAPID key pair, made and kept the first time it is asked for (two first asks at once keep one
    pair: the second insert does nothing and both read the same row)."""
    found = repository.key(session, program_id)
    if found is None:
        fresh = keys.new_pair()
        repository.add_key(
            session,
            {
                "program_id": program_id,
                "private_key": fresh.private_key,
                "public_key": fresh.public_key,
                "created_at": now,
            },
        )
        found = repository.key(session, program_id)
        assert found is not None
    return KeyPair(found.private_key, found.public_key)


def public_key(session: Session, program_id: int, now: datetime) -> str:
    """The ``applicationServerKey`` the portal subscribes with: the public key's uncompressed point, base64url."""
    return key_pair(session, program_id, now).public_key


@dataclass(frozen=True)
class Subscribed:
    endpoint: str
    created_at: datetime
    created: bool
    """A new device, rather than one the member had turned on already."""


def subscribe(
    session: Session, program_id: int, member_id: int, body: SubscriptionIn, now: datetime, *, allow_private: bool
) -> Subscribed:
    """Turn notifications on for a member's device. The keys are checked first (``push_keys_invalid``), then the
    endpoint (``push_endpoint_not_allowed``); nothing is kept unless both pass. The same endpoint again keeps one row:
    its keys are updated, and it moves to this member (whoever signed in on the device last hears on it)."""
    problems = key_problems(body.keys.p256dh, body.keys.auth)
    if not problems and not keys.on_curve(body.keys.p256dh):
        problems.append({"field": "keys.p256dh", "message": "is not a point on the P-256 curve"})
    if problems:
        raise PushKeysInvalid("the subscription's keys cannot be used: " + problems[0]["message"], problems)
    check_endpoint(body.endpoint, allow_private)
    values = {
        "program_id": program_id,
        "member_id": member_id,
        "endpoint": body.endpoint,
        "p256dh": body.keys.p256dh,
        "auth": body.keys.auth,
        "created_at": now,
        "last_error": "",
    }
    if repository.add_subscription(session, values) is not None:
        return Subscribed(body.endpoint, now, created=True)
    row = repository.by_endpoint(session, body.endpoint)
    assert row is not None
    moved = (row.program_id, row.member_id) != (program_id, member_id)
    row.program_id, row.member_id, row.p256dh, row.auth = program_id, member_id, body.keys.p256dh, body.keys.auth
    if moved:
        row.created_at, row.last_success_at, row.last_failure_at, row.last_error = now, None, None, ""
    session.flush()
    return Subscribed(row.endpoint, row.created_at, created=moved)


def unsubscribe(session: Session, member_id: int, endpoint: str) -> bool:
    """Turn notifications off for one of the member's devices; whether it was on. Another member's device is not
    touched (the endpoint alone is no proof of whose it is)."""
    return repository.remove(session, member_id, endpoint) > 0


def with_devices(session: Session, member_ids: Collection[int]) -> set[int]:
    """Which of these members have a device that takes notifications (member mail queues a push for them), in one
    query for a batch of events."""
    return repository.with_any(session, member_ids)


def devices(session: Session, member_id: int) -> list[Device]:
    """The member's devices, oldest first, as values that outlive the session."""
    return [Device(row.id, row.endpoint, row.p256dh, row.auth) for row in repository.of_member(session, member_id)]


def record(session: Session, attempts: Sequence[Attempt], now: datetime) -> None:
    """What each device's push service answered: a device that is gone is forgotten (404, 410), one that took the
    push notes when, one that failed notes why."""
    repository.remove_ids(session, [attempt.subscription_id for attempt in attempts if attempt.result is Result.GONE])
    repository.succeeded(
        session, [attempt.subscription_id for attempt in attempts if attempt.result is Result.DELIVERED], now
    )
    for attempt in attempts:
        if attempt.result in (Result.TRY_AGAIN, Result.REFUSED):
            repository.failed(session, attempt.subscription_id, attempt.error, now)
