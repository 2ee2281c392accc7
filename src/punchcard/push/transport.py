"""Posting a notification to a member's devices (RFC 8030 §5): encrypted to each device, signed with the program's
VAPID key, and each push service's answer read as what it means for that device (``domain.result_of``).

The request is ours (httpx, as for webhooks): no redirect is followed, since a redirect could lead into a private
network, and the endpoint is checked again before every push (its name may resolve elsewhere by then). It runs
outside any transaction: a push service that takes its 10 seconds holds up no database work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

import httpx

from punchcard import __version__
from punchcard.kit import outbound
from punchcard.push import keys
from punchcard.push.domain import TIMEOUT_SECONDS, TTL, Attempt, Notification, Result, claims, result_of, retry_after
from punchcard.push.errors import PushEndpointNotAllowed
from punchcard.push.keys import KeyPair


@dataclass(frozen=True)
class Device:
    """A push subscription as the sender needs it, read before the transaction ends."""

    subscription_id: int
    endpoint: str
    p256dh: str
    auth: str


def check_endpoint(url: str, allow_private: bool) -> None:
    """Refuse an endpoint we must not post to: anything but https on a public address (``kit.outbound``); with
    private addresses allowed (a stand-in push service in tests), also plain http to an address on this network."""
    scheme = urlsplit(url).scheme
    if scheme == "https":
        found = None if allow_private else outbound.blocked(url)
        if found is None:
            return
        message = f"push endpoints may not reach private networks: {found.reason}" if found.private else found.reason
        raise PushEndpointNotAllowed(message, [{"field": "endpoint", "message": found.reason}])
    if scheme == "http" and allow_private and outbound.only_private(url):
        return
    raise PushEndpointNotAllowed(
        "a push endpoint is an https URL of a push service",
        [{"field": "endpoint", "message": "must be an https URL"}],
    )


class Pusher:
    """Sends notifications for one installation: ``subject`` is the VAPID ``sub`` (``mailto:`` the sender address)
    a push service's operators may write to about our traffic."""

    def __init__(self, subject: str, *, allow_private: bool, client: httpx.Client | None = None) -> None:
        self._subject = subject
        self._allow_private = allow_private
        self._client = client or httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False)

    def send(self, devices: Sequence[Device], key: KeyPair, notification: Notification, now: datetime) -> list[Attempt]:
        """Push ``notification`` to each device; one ``Attempt`` per device, in order."""
        payload = notification.payload()
        return [self._one(device, key, notification.tag, payload, now) for device in devices]

    def _one(self, device: Device, key: KeyPair, tag: str, payload: bytes, now: datetime) -> Attempt:
        try:
            check_endpoint(device.endpoint, self._allow_private)
        except PushEndpointNotAllowed as refused:
            return Attempt(device.subscription_id, Result.REFUSED, None, refused.message[:200])
        try:
            authorization = keys.authorization(key, claims(device.endpoint, self._subject, now))
            body = keys.encrypt(device.endpoint, device.p256dh, device.auth, payload)
        except Exception as failure:  # the libraries refuse what they cannot sign or encrypt in their own ways
            problem = f"cannot sign or encrypt the push: {type(failure).__name__}: {failure}"[:200]
            return Attempt(device.subscription_id, Result.REFUSED, None, problem)
        headers = {
            "Authorization": authorization,
            "Content-Encoding": "aes128gcm",
            "Content-Type": "application/octet-stream",
            "TTL": str(int(TTL.total_seconds())),
            "Topic": tag,  # a push still queued at the service is replaced by a retry of it (RFC 8030 §5.4)
            "User-Agent": f"Punchcard/{__version__}",
        }
        try:
            response = self._client.post(device.endpoint, content=body, headers=headers)
        except httpx.HTTPError as failure:
            return Attempt(device.subscription_id, Result.TRY_AGAIN, None, f"{type(failure).__name__}: {failure}"[:200])
        result = result_of(response.status_code)
        error = (
            ""
            if result is Result.DELIVERED
            else f"HTTP {response.status_code} from {urlsplit(device.endpoint).hostname}"
        )
        return Attempt(
            device.subscription_id,
            result,
            response.status_code,
            error[:200],
            retry_after(response.headers.get("Retry-After")) if result is Result.TRY_AGAIN else None,
        )
