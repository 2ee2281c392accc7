"""Referral queries (private to the feature)."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from punchcard.kit.db import InsertUnlessTaken
from punchcard.referral.domain import Status
from punchcard.referral.models import Referral, ReferralCode, ReferralSignal

_insert_code = InsertUnlessTaken(ReferralCode, ReferralCode.member_id)
_insert_signal = InsertUnlessTaken(ReferralSignal, ReferralSignal.member_id, ReferralSignal.kind, ReferralSignal.digest)


def code_of(session: Session, member_id: int) -> str | None:
    return session.execute(select(ReferralCode.code).where(ReferralCode.member_id == member_id)).scalar_one_or_none()


def insert_code(session: Session, program_id: int, member_id: int, code: str, now: datetime) -> bool:
    """``False`` when the member got a code meanwhile (a concurrent first request)."""
    values = {"program_id": program_id, "member_id": member_id, "code": code, "created_at": now}
    return _insert_code(session, values) is not None


def code_taken(session: Session, program_id: int, code: str) -> bool:
    query = select(ReferralCode.id).where(ReferralCode.program_id == program_id, ReferralCode.code == code)
    return session.execute(query).first() is not None


def owner_of(session: Session, program_id: int, code: str) -> int | None:
    query = select(ReferralCode.member_id).where(ReferralCode.program_id == program_id, ReferralCode.code == code)
    return session.execute(query).scalar_one_or_none()


def of_referee(session: Session, referee_id: int, *, lock: bool = False) -> Referral | None:
    query = select(Referral).where(Referral.referee_id == referee_id)
    return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def by_id(session: Session, program_id: int, referral_id: int, *, lock: bool = False) -> Referral | None:
    query = select(Referral).where(Referral.id == referral_id, Referral.program_id == program_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return session.execute(query).scalar_one_or_none()


def by_order(session: Session, referee_id: int, order_id: str, *, lock: bool = False) -> Referral | None:
    query = select(Referral).where(Referral.referee_id == referee_id, Referral.order_id == order_id)
    return session.execute(query.with_for_update() if lock else query).scalar_one_or_none()


def of_referrer(session: Session, referrer_id: int) -> Sequence[Referral]:
    query = select(Referral).where(Referral.referrer_id == referrer_id).order_by(Referral.id.desc())
    return session.execute(query).scalars().all()


def add(session: Session, **values: Any) -> Referral:
    referral = Referral(**values)
    session.add(referral)
    session.flush()
    return referral


def made_since(session: Session, referrer_id: int, since: datetime) -> int:
    query = select(func.count()).where(Referral.referrer_id == referrer_id, Referral.created_at >= since)
    return int(session.execute(query).scalar_one())


def signups_from(session: Session, program_id: int, digests: Collection[str], since: datetime) -> int:
    """Referred sign-ups since ``since`` whose member was seen with one of these IP address or device digests."""
    if not digests:
        return 0
    query = (
        select(func.count(func.distinct(Referral.id)))
        .join(ReferralSignal, ReferralSignal.member_id == Referral.referee_id)
        .where(
            Referral.program_id == program_id,
            Referral.created_at >= since,
            ReferralSignal.kind.in_(("ip", "device_id")),
            ReferralSignal.digest.in_(list(digests)),
        )
    )
    return int(session.execute(query).scalar_one())


def signals(session: Session, member_id: int) -> set[tuple[str, str]]:
    rows = session.execute(
        select(ReferralSignal.kind, ReferralSignal.digest).where(ReferralSignal.member_id == member_id)
    ).all()
    return {(str(row.kind), str(row.digest)) for row in rows}


def others_with(session: Session, program_id: int, member_ids: Collection[int], found: Mapping[str, str]) -> bool:
    """Whether a member other than ``member_ids`` was seen with one of these (kind, digest) signals."""
    if not found:
        return False
    matches = [(ReferralSignal.kind == kind) & (ReferralSignal.digest == value) for kind, value in found.items()]
    query = select(ReferralSignal.id).where(
        ReferralSignal.program_id == program_id,
        ReferralSignal.member_id.not_in(list(member_ids)),
        or_(*matches),
    )
    return session.execute(query.limit(1)).first() is not None


def record_signals(session: Session, program_id: int, member_id: int, found: Mapping[str, str], now: datetime) -> None:
    for kind, value in found.items():
        _insert_signal(
            session, {"program_id": program_id, "member_id": member_id, "kind": kind, "digest": value, "seen_at": now}
        )


def rewarded_counts(session: Session, referrer_id: int, month_start: datetime) -> tuple[int, int]:
    """The referrer's rewarded referrals (not capped, not taken back): since ``month_start``, and ever."""
    rewarded = (
        Referral.referrer_id == referrer_id,
        Referral.referrer_paid_at.is_not(None),
        Referral.referrer_capped.is_(False),
        Referral.referrer_reversed_at.is_(None),
    )
    month = func.count().filter(Referral.referrer_paid_at >= month_start)
    row = session.execute(select(month, func.count()).where(*rewarded)).one()
    return int(row[0]), int(row[1])


def due(session: Session, program_id: int, at: datetime, limit: int) -> list[int]:
    query = (
        select(Referral.id)
        .where(Referral.program_id == program_id, Referral.status == Status.QUALIFIED.value, Referral.payable_at <= at)
        .order_by(Referral.payable_at, Referral.id)
        .limit(limit)
    )
    return [int(found) for found in session.execute(query).scalars()]


def unsettled_reversals(session: Session, program_id: int, limit: int) -> list[int]:
    """Reversed referrals whose referrer's reward is not taken back yet (the consumer's work, should it fail)."""
    query = (
        select(Referral.id)
        .where(
            Referral.program_id == program_id,
            Referral.status == Status.REVERSED.value,
            Referral.referrer_paid_at.is_not(None),
            Referral.referrer_reversed_at.is_(None),
        )
        .order_by(Referral.id)
        .limit(limit)
    )
    return [int(found) for found in session.execute(query).scalars()]


def with_status(session: Session, program_id: int, status: Status, limit: int) -> Sequence[Referral]:
    query = (
        select(Referral)
        .where(Referral.program_id == program_id, Referral.status == status.value)
        .order_by(Referral.id)
        .limit(limit)
    )
    return session.execute(query).scalars().all()


def latest(session: Session, program_id: int, limit: int) -> Sequence[Referral]:
    """The program's referrals, newest first."""
    query = select(Referral).where(Referral.program_id == program_id).order_by(Referral.id.desc()).limit(limit)
    return session.execute(query).scalars().all()


def reviewed(session: Session, program_id: int, limit: int) -> Sequence[Referral]:
    """The referrals staff decided on, the latest decision first."""
    query = (
        select(Referral)
        .where(Referral.program_id == program_id, Referral.reviewed_at.is_not(None))
        .order_by(Referral.reviewed_at.desc(), Referral.id.desc())
        .limit(limit)
    )
    return session.execute(query).scalars().all()


def referees(program_id: int) -> Select[int]:
    """The program's referred members, as a subquery for other features' totals (their revenue)."""
    return select(Referral.referee_id).where(Referral.program_id == program_id)


def counts(session: Session, program_id: int, since: datetime, until: datetime) -> dict[str, int]:
    """How many referrals were made, flagged, qualified, paid, rejected and reversed in ``[since, until)``, each by
    the moment it happened."""

    def between(column: Any) -> Any:
        return func.count().filter(column >= since, column < until)

    flagged = func.count().filter(
        Referral.created_at >= since, Referral.created_at < until, func.json_array_length(Referral.flags) > 0
    )
    row = session.execute(
        select(
            between(Referral.created_at),
            flagged,
            between(Referral.qualified_at),
            between(Referral.referee_paid_at),
            func.count().filter(
                Referral.status == Status.REJECTED.value, Referral.created_at >= since, Referral.created_at < until
            ),
            between(Referral.reversed_at),
        ).where(Referral.program_id == program_id)
    ).one()
    names = ("sign_ups", "flagged", "qualified", "paid", "rejected", "reversed")
    return {name: int(value) for name, value in zip(names, row, strict=True)}


def codes_made(session: Session, program_id: int, since: datetime, until: datetime) -> int:
    query = select(func.count()).where(
        ReferralCode.program_id == program_id, ReferralCode.created_at >= since, ReferralCode.created_at < until
    )
    return int(session.execute(query).scalar_one())
