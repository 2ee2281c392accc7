"""Referral codes members bring from another loyalty app (``punchcard import members``), kept as their own codes so
the links they already shared keep working. Set-wise, for thousands of members per batch: other features call these,
never the referral repository or models.

A kept code follows the rules of a code made here: one per member, unique in the program, matched without case or
spaces (stored upper case), at most ``MAX_LENGTH`` characters; letters, digits, ``-`` and ``_``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import cast

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

from punchcard.kit import bulk
from punchcard.referral.models import ReferralCode

_CODES = cast(Table, ReferralCode.__table__)
MAX_LENGTH = 16
"""The column's width (``referral_codes.code``)."""
_SHAPE = re.compile(r"[A-Z0-9_-]{3,16}")


def normal(code: str) -> str | None:
    """``code`` as it is stored (upper case, no spaces), or ``None`` when it cannot be a code here."""
    stored = "".join(code.split()).upper()
    return stored if _SHAPE.fullmatch(stored) else None


def owners(session: Session, program_id: int, codes: Sequence[str]) -> dict[str, int]:
    """Which member holds each of ``codes`` (stored form) in the program, for those that are taken."""
    found: dict[str, int] = {}
    for chunk in bulk.chunks(sorted(set(codes))):
        query = select(ReferralCode.code, ReferralCode.member_id).where(
            ReferralCode.program_id == program_id, ReferralCode.code.in_(chunk)
        )
        for code, member_id in session.execute(query):
            found[code] = member_id
    return found


def codes_of(session: Session, member_ids: Sequence[int]) -> dict[int, str]:
    """The code each of ``member_ids`` has, for those that have one."""
    found: dict[int, str] = {}
    for chunk in bulk.chunks(sorted(set(member_ids))):
        query = select(ReferralCode.member_id, ReferralCode.code).where(ReferralCode.member_id.in_(chunk))
        for member_id, code in session.execute(query):
            found[member_id] = code
    return found


def keep(session: Session, program_id: int, codes: dict[int, str], now: datetime) -> None:
    """Give each member (``codes``: member id → stored code) their code; the caller checked both are free."""
    rows = [
        {"program_id": program_id, "member_id": member_id, "code": code, "created_at": now}
        for member_id, code in sorted(codes.items())
    ]
    bulk.insert_rows(session, _CODES, rows)
