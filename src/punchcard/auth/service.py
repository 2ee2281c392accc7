"""Creating and checking API keys."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from punchcard.auth.errors import ApiKeyNotFound
from punchcard.auth.models import ApiKey
from punchcard.kit import invalidation
from punchcard.kit.errors import Forbidden, Unauthorized


class Scope(StrEnum):
    ADMIN = "admin"
    INTEGRATION = "integration"


@dataclass(frozen=True)
class Caller:
    """Who is calling: the program their key belongs to and what it may do."""

    program_id: int
    scope: Scope

    def require_admin(self) -> None:
        if self.scope is not Scope.ADMIN:
            raise Forbidden("this operation needs an API key with the admin scope")


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, program_id: int, scope: Scope, now: datetime) -> str:
    """A new random key; only its hash is stored, so this is the one time it can be shown."""
    key = f"pc_{scope.value[:3]}_{secrets.token_urlsafe(32)}"
    session.add(ApiKey(program_id=program_id, scope=scope.value, key_hash=_hash(key), prefix=key[:10], created_at=now))
    session.flush()
    return key


def keys(session: Session, program_id: int) -> Sequence[ApiKey]:
    """The program's keys, newest first (revoked ones too: their prefixes explain old requests in logs)."""
    return (
        session.execute(select(ApiKey).where(ApiKey.program_id == program_id).order_by(ApiKey.id.desc()))
        .scalars()
        .all()
    )


def revoke_key(session: Session, program_id: int, key_id: int, now: datetime) -> ApiKey | None:
    """Revoke one of the program's live keys; authentication refuses it from now on. ``None`` when the program has no
    such key or it was already revoked (the first revocation's time stays)."""
    key = session.execute(
        select(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.program_id == program_id, ApiKey.revoked_at.is_(None))
        .with_for_update()
    ).scalar_one_or_none()
    if key is not None:
        key.revoked_at = now
        session.flush()
        invalidation.announce(session)  # every process's key cache forgets it at commit
    return key


def revoke_by_value(session: Session, program_id: int, key: str, now: datetime) -> ApiKey:
    """Revoke the program's live key ``key`` (the whole key, as shown once at its creation: what an operator holds
    when a key has leaked); ``api_key_not_found`` when the program has no such live key."""
    key_id = session.scalar(
        select(ApiKey.id).where(ApiKey.program_id == program_id, ApiKey.key_hash == _hash(key.strip()))
    )
    revoked = revoke_key(session, program_id, key_id, now) if key_id is not None else None
    if revoked is None:
        raise ApiKeyNotFound("this program has no live API key with this value (it may be revoked already)")
    return revoked


def live_key(key_hash: Any) -> Select[int, str]:
    """The program and scope (columns ``program_id``, ``scope``) of the live key whose hash is ``key_hash`` (a value or
    a bound parameter), as a statement a feature above may extend: ``program.service.for_key`` joins the program's
    version to it, so that authenticating a request stays one query."""
    return select(ApiKey.program_id, ApiKey.scope).where(ApiKey.key_hash == key_hash, ApiKey.revoked_at.is_(None))


def bearer_key_hash(authorization: str | None) -> str:
    """The stored form of the key in ``Authorization: Bearer <key>``; a missing or malformed header is 401."""
    if not authorization or not authorization.lower().startswith("bearer "):
        raise Unauthorized("send an API key as 'Authorization: Bearer <key>'")
    return _hash(authorization[7:].strip())


UNKNOWN_KEY = "unknown or revoked API key"
