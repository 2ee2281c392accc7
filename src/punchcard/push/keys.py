"""The cryptography of Web Push, through maintained libraries: VAPID key pairs and tokens (``py_vapid``, RFC 8292),
payload encryption to a device (``pywebpush`` over ``http_ece``: aes128gcm, RFC 8291), and whether a device's key is
a point on the curve (``cryptography``).

Those libraries ship no type information; this module is the one place that calls them, with types around them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02
from pywebpush import WebPusher

from punchcard.push.domain import decode, encode


@dataclass(frozen=True)
class KeyPair:
    """A program's VAPID keys, base64url: the private key's 32 bytes, the public key's uncompressed point."""

    private_key: str
    public_key: str


def new_pair() -> KeyPair:
    """A fresh P-256 key pair."""
    private = ec.generate_private_key(ec.SECP256R1())
    raw = private.private_numbers().private_value.to_bytes(32, "big")
    point = private.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return KeyPair(encode(raw), encode(point))


def authorization(pair: KeyPair, claims: dict[str, str | int]) -> str:
    """The ``Authorization`` header of a push: ``vapid t=<ES256 JWT of the claims>, k=<public key>``."""
    signer = Vapid02.from_raw(pair.private_key.encode())
    headers = cast(dict[str, str], signer.sign(claims))
    return headers["Authorization"]


def on_curve(p256dh: str) -> bool:
    """Whether a device's public key (already of the right form, ``domain.key_problems``) is a P-256 point: a point
    off the curve cannot be encrypted to."""
    point = decode(p256dh)
    if point is None:
        return False
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError:
        return False
    return True


def encrypt(endpoint: str, p256dh: str, auth: str, payload: bytes) -> bytes:
    """``payload`` encrypted for the device (aes128gcm with a fresh sender key and salt per push)."""
    pusher = WebPusher({"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}})
    return cast(bytes, pusher.encode(payload, content_encoding="aes128gcm")["body"])
