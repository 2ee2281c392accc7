"""A stand-in push service: a real HTTP server on 127.0.0.1 that checks each push as a browser's push service and the
browser would, and keeps what it read.

For every POST it verifies the VAPID ``Authorization: vapid t=<jwt>, k=<key>`` header (an ES256 signature by key
``k``, ``aud`` the endpoint's origin, ``exp`` in the future and at most 24 hours ahead of the test's clock, ``sub`` a
``mailto:`` or ``https:`` URL; RFC 8292), checks ``Content-Encoding: aes128gcm`` and ``TTL`` (RFC 8030), and decrypts
the body with the subscription's private key and authentication secret (RFC 8291), which the test made as a browser
makes them: a P-256 key pair and 16 random bytes. It answers 201, or what the test told it to for an endpoint (410
for one marked gone), and 400 to a push that fails a check, whose problems it keeps for the test to see.
"""

from __future__ import annotations

import base64
import json
import os
import re
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import http_ece
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.receiver import Received, serving_posts

VAPID = re.compile(r"vapid\s+(.+)", re.IGNORECASE)


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class BrowserSubscription:
    """What a browser keeps for one push subscription: the endpoint, and the keys the push is encrypted to."""

    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth: bytes

    @property
    def token(self) -> str:
        return self.endpoint.rsplit("/", 1)[1]

    @property
    def p256dh(self) -> str:
        point = self.private_key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return b64url(point)

    def to_json(self) -> dict[str, Any]:
        """As ``PushSubscription.toJSON()`` gives it."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {"p256dh": self.p256dh, "auth": b64url(self.auth)},
        }


@dataclass(frozen=True)
class Push:
    """One push the service received, as it read it."""

    token: str
    status: int
    """What it answered."""
    problems: tuple[str, ...]
    """What failed the checks (then it answered 400); empty for a good push."""
    claims: dict[str, Any]
    ttl: int | None
    topic: str | None
    message: dict[str, Any] | None
    """The decrypted JSON."""


@dataclass
class PushService:
    now: Callable[[], datetime]
    """The test's clock: a token's ``exp`` is judged against it (tests never read the wall clock)."""
    base: str = ""
    received: list[Push] = field(default_factory=list)
    _devices: dict[str, BrowserSubscription] = field(default_factory=dict)
    _answers: dict[str, list[tuple[int, int | None]]] = field(default_factory=dict)
    _gone: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self) -> BrowserSubscription:
        """A new subscription, as a browser makes one."""
        device = BrowserSubscription(
            f"{self.base}/push/{secrets.token_urlsafe(16)}", ec.generate_private_key(ec.SECP256R1()), os.urandom(16)
        )
        with self._lock:
            self._devices[device.token] = device
        return device

    def answer(self, device: BrowserSubscription, *statuses: int, retry_after: int | None = None) -> None:
        """Answer the next pushes to ``device`` with these statuses, in order (then 201), with ``Retry-After``."""
        with self._lock:
            self._answers.setdefault(device.token, []).extend((status, retry_after) for status in statuses)

    def gone(self, device: BrowserSubscription) -> None:
        """The device unsubscribed: every push to it from now is answered 410 Gone."""
        with self._lock:
            self._gone.add(device.token)

    def pushes(self, device: BrowserSubscription) -> list[Push]:
        with self._lock:
            return [push for push in self.received if push.token == device.token]

    def messages(self, device: BrowserSubscription) -> list[dict[str, Any]]:
        """The decrypted notifications the device was given (answered 201), oldest first."""
        return [push.message for push in self.pushes(device) if push.status == 201 and push.message is not None]

    def problems(self) -> list[tuple[str, ...]]:
        with self._lock:
            return [push.problems for push in self.received if push.problems]

    def take(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, int | None]:
        """The status to answer (and ``Retry-After``, if any) for a push to ``path``."""
        token = path.rsplit("/", 1)[-1]
        with self._lock:
            device = self._devices.get(token)
        if not path.startswith("/push/") or device is None:
            return 404, None
        problems: list[str] = []
        claims = self._claims(headers.get("authorization", ""), problems)
        if headers.get("content-encoding") != "aes128gcm":
            problems.append(f"Content-Encoding is {headers.get('content-encoding')!r}")
        ttl = headers.get("ttl")
        if ttl is None or not ttl.isdigit():
            problems.append(f"TTL is {ttl!r}")
        message = None
        try:
            plain = http_ece.decrypt(body, private_key=device.private_key, auth_secret=device.auth, version="aes128gcm")
            message = json.loads(plain)
        except Exception as error:
            problems.append(f"cannot decrypt: {type(error).__name__}: {error}")
        wait = None
        with self._lock:
            if problems:
                status = 400
            elif token in self._gone:
                status = 410
            else:
                queued = self._answers.get(token, [])
                status, wait = queued.pop(0) if queued else (201, None)
            self.received.append(
                Push(
                    token,
                    status,
                    tuple(problems),
                    claims,
                    int(ttl) if ttl and ttl.isdigit() else None,
                    headers.get("topic"),
                    message,
                )
            )
        return status, wait

    def _claims(self, header: str, problems: list[str]) -> dict[str, Any]:
        found = VAPID.fullmatch(header.strip())
        if found is None:
            problems.append(f"Authorization is not vapid: {header!r}")
            return {}
        parameters = dict(part.strip().split("=", 1) for part in found.group(1).split(",") if "=" in part)
        try:
            key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(parameters["k"]))
            header_fields = jwt.get_unverified_header(parameters["t"])
            claims: dict[str, Any] = jwt.decode(
                parameters["t"],
                key=key,
                algorithms=["ES256"],
                audience=self.base,
                options={"verify_exp": False, "require": ["aud", "exp", "sub"]},
            )
        except (KeyError, ValueError, jwt.PyJWTError) as error:
            problems.append(f"VAPID token refused: {type(error).__name__}: {error}")
            return {}
        if header_fields.get("alg") != "ES256":
            problems.append(f"alg is {header_fields.get('alg')!r}")
        now = self.now()
        expires = datetime.fromtimestamp(int(claims["exp"]), UTC)
        if not now < expires <= now + timedelta(hours=24):
            problems.append(f"exp {expires.isoformat()} is not within 24 hours after {now.isoformat()}")
        if not str(claims["sub"]).startswith(("mailto:", "https:")):
            problems.append(f"sub is {claims['sub']!r}")
        return claims


@contextmanager
def push_service(now: Callable[[], datetime]) -> Iterator[PushService]:
    """Run a stand-in push service on a free port of 127.0.0.1 for the ``with`` block."""
    service = PushService(now)

    def answer(request: Received) -> tuple[int, dict[str, str]]:
        status, wait = service.take(request.path, request.headers, request.body)
        return status, {"Retry-After": str(wait)} if wait is not None else {}

    with serving_posts(answer) as base:
        service.base = base
        yield service
