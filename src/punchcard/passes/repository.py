"""Queries of wallet credentials, members' passes, their tokens and their devices' registrations."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from punchcard.kit.db import InsertUnlessTaken
from punchcard.passes.models import (
    AppleCredentialsRow,
    GoogleCredentialsRow,
    MemberPass,
    PassRegistration,
    PassToken,
)

_NEW_PASS = InsertUnlessTaken(MemberPass, MemberPass.member_id)
_NEW_REGISTRATION = InsertUnlessTaken(
    PassRegistration, PassRegistration.pass_id, PassRegistration.device_library_identifier
)
TOKENS_KEPT = 10
"""The newest copies of a pass whose tokens stay valid: a member who downloads their card again and again (a phone,
a watch, a new phone) keeps the recent ones updating, and the table does not grow without end."""


def apple(session: Session, program_id: int, *, for_update: bool = False) -> AppleCredentialsRow | None:
    query = select(AppleCredentialsRow).where(AppleCredentialsRow.program_id == program_id)
    return session.execute(query.with_for_update() if for_update else query).scalar_one_or_none()


def google(session: Session, program_id: int, *, for_update: bool = False) -> GoogleCredentialsRow | None:
    query = select(GoogleCredentialsRow).where(GoogleCredentialsRow.program_id == program_id)
    return session.execute(query.with_for_update() if for_update else query).scalar_one_or_none()


def of_member(session: Session, member_id: int) -> MemberPass | None:
    return session.execute(select(MemberPass).where(MemberPass.member_id == member_id)).scalar_one_or_none()


def add_pass(session: Session, values: dict[str, Any]) -> None:
    """Keep a new pass unless another request made the member's first (then that one stands)."""
    _NEW_PASS(session, values)


def by_serial(session: Session, serial_number: str) -> MemberPass | None:
    return session.execute(select(MemberPass).where(MemberPass.serial_number == serial_number)).scalar_one_or_none()


def of_members(session: Session, member_ids: Collection[int]) -> Sequence[MemberPass]:
    """The passes of these members, locked, in id order (one lock order for every dispatcher)."""
    query = select(MemberPass).where(MemberPass.member_id.in_(list(member_ids))).order_by(MemberPass.id)
    return session.execute(query.with_for_update()).scalars().all()


def add_token(session: Session, pass_id: int, token_hash: str, now: datetime) -> None:
    """Keep a new copy's token; the copies beyond the newest ``TOKENS_KEPT`` lose theirs."""
    session.add(PassToken(pass_id=pass_id, token_hash=token_hash, created_at=now))
    session.flush()
    kept = select(PassToken.id).where(PassToken.pass_id == pass_id).order_by(PassToken.id.desc()).limit(TOKENS_KEPT)
    session.execute(delete(PassToken).where(PassToken.pass_id == pass_id, PassToken.id.not_in(kept)))


def has_token(session: Session, pass_id: int, token_hash: str) -> bool:
    query = select(PassToken.id).where(PassToken.pass_id == pass_id, PassToken.token_hash == token_hash)
    return session.execute(query).first() is not None


def add_registration(session: Session, values: dict[str, Any]) -> int | None:
    """The new registration's id, or ``None`` when the device had registered the pass already."""
    return _NEW_REGISTRATION(session, values)


def registration(session: Session, pass_id: int, device: str) -> PassRegistration | None:
    query = select(PassRegistration).where(
        PassRegistration.pass_id == pass_id, PassRegistration.device_library_identifier == device
    )
    return session.execute(query).scalar_one_or_none()


def remove_registration(session: Session, pass_id: int, device: str) -> None:
    session.execute(
        delete(PassRegistration).where(
            PassRegistration.pass_id == pass_id, PassRegistration.device_library_identifier == device
        )
    )


def remove_registrations(session: Session, ids: Collection[int]) -> None:
    if ids:
        session.execute(delete(PassRegistration).where(PassRegistration.id.in_(list(ids))))


def on_device(
    session: Session, device: str, pass_type_identifier: str
) -> Sequence[tuple[PassRegistration, MemberPass]]:
    """The device's registrations for passes of this Pass Type ID (whatever program issues under it)."""
    query = (
        select(PassRegistration, MemberPass)
        .join(MemberPass, MemberPass.id == PassRegistration.pass_id)
        .join(AppleCredentialsRow, AppleCredentialsRow.program_id == MemberPass.program_id)
        .where(
            PassRegistration.device_library_identifier == device,
            AppleCredentialsRow.pass_type_identifier == pass_type_identifier,
        )
        .order_by(PassRegistration.id)
    )
    return [(found, pass_row) for found, pass_row in session.execute(query)]


def due_registrations(session: Session, now: datetime, limit: int) -> Sequence[tuple[PassRegistration, MemberPass]]:
    """Registrations whose device has not been pushed the pass's latest change and may be now, oldest first,
    locked (others' claims skip them)."""
    query = (
        select(PassRegistration, MemberPass)
        .join(MemberPass, MemberPass.id == PassRegistration.pass_id)
        .where(
            PassRegistration.pushed_tag < MemberPass.update_tag,
            or_(PassRegistration.retry_at.is_(None), PassRegistration.retry_at <= now),
        )
        .order_by(PassRegistration.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=PassRegistration)
    )
    return [(found, pass_row) for found, pass_row in session.execute(query)]


def due_objects(session: Session, now: datetime, limit: int) -> Sequence[MemberPass]:
    """Passes saved to Google Wallet whose object does not show the latest change and may be updated now, locked."""
    query = (
        select(MemberPass)
        .where(
            MemberPass.google_saved_at.is_not(None),
            MemberPass.google_sent_tag < MemberPass.update_tag,
            or_(MemberPass.google_retry_at.is_(None), MemberPass.google_retry_at <= now),
        )
        .order_by(MemberPass.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return session.execute(query).scalars().all()
