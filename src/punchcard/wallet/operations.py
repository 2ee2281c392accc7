"""Money operations exactly once per ``Idempotency-Key``: the first answer is kept, a retry gets it again (200), and
the same key with another request is a conflict. Only operations that moved money are kept: a refused one changed
nothing, and may be asked again once it can succeed (a card topped up by a refund)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from punchcard.kit.errors import IdempotencyConflict
from punchcard.kit.idempotency import request_hash
from punchcard.wallet import repository, sealing
from punchcard.wallet.domain import grouped


@dataclass(frozen=True)
class Asked:
    """An operation as asked: what (``gift_card.redeem``), under which key, and the request's fingerprint (its
    parsed body and the card or member it names)."""

    action: str
    key: str
    digest: str

    @classmethod
    def of(cls, action: str, key: str, request: dict[str, Any]) -> Asked:
        return cls(action, key, request_hash({"action": action, **request}))

    @property
    def key_hash(self) -> str:
        return hashlib.sha256(self.key.encode()).hexdigest()

    @property
    def operation(self) -> str:
        """What the ledger's entries name as their cause (``gift_card.redeem:3f2a…``)."""
        return f"{self.action}:{self.key_hash[:16]}"


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]


def replayed(session: Session, program_id: int, asked: Asked) -> Outcome | None:
    """The first answer to ``asked``'s key, if there was one; a new card's code is unsealed with the key."""
    found = repository.operation(session, program_id, asked.key_hash)
    if found is None:
        return None
    if found.request_hash != asked.digest:
        raise IdempotencyConflict("this Idempotency-Key was already used with a different request")
    body = dict(found.response)
    if found.sealed_code is not None:
        code = sealing.unseal(found.sealed_code, asked.key)
        assert code is not None  # the key's hash matched, so it is the key the code was sealed with
        body["code"] = grouped(code)
    return Outcome(200, body)


def remember(
    session: Session, program_id: int, asked: Asked, outcome: Outcome, now: datetime, *, code: str | None = None
) -> Outcome:
    """Keep ``outcome`` as the answer to ``asked``'s key; a new card's ``code`` is kept only sealed."""
    repository.add_operation(
        session,
        program_id=program_id,
        key_hash=asked.key_hash,
        action=asked.action,
        request_hash=asked.digest,
        status=outcome.status,
        response={key: value for key, value in outcome.body.items() if key != "code"},
        sealed_code=sealing.seal(code, asked.key) if code is not None else None,
        created_at=now,
    )
    return outcome
