"""A new gift card's code, sealed for the one caller who may see it again: whoever holds the ``Idempotency-Key`` of
the request that issued it.

Codes are stored only as hashes, yet a retried issue must answer with the same code (the first answer may never have
reached the caller). The code is kept encrypted with AES-GCM under a key derived (HKDF-SHA256, a random salt per
card) from the ``Idempotency-Key``, which itself is stored only as a hash: a retry with the key unseals it; a copy of
the database does not. ``cryptography`` does the cryptography (docs/decisions.md).
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_SALT, _NONCE = 16, 12
_CONTEXT = b"punchcard gift card code"


def _key(idempotency_key: str, salt: bytes) -> AESGCM:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=_CONTEXT).derive(idempotency_key.encode())
    return AESGCM(derived)


def seal(code: str, idempotency_key: str) -> bytes:
    salt, nonce = os.urandom(_SALT), os.urandom(_NONCE)
    return salt + nonce + _key(idempotency_key, salt).encrypt(nonce, code.encode(), None)


def unseal(sealed: bytes, idempotency_key: str) -> str | None:
    """The code, or ``None`` when ``idempotency_key`` is not the key it was sealed with."""
    salt, nonce, box = sealed[:_SALT], sealed[_SALT : _SALT + _NONCE], sealed[_SALT + _NONCE :]
    try:
        return _key(idempotency_key, salt).decrypt(nonce, box, None).decode()
    except InvalidTag:
        return None
