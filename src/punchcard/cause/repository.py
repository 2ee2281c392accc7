"""Reading and writing donations, budgets and standing gifts; nothing here commits."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from punchcard.cause.models import Donation, MatchBudget, StandingGiftRow
from punchcard.kit.db import InsertUnlessTaken

_NEW_BUDGET = InsertUnlessTaken(MatchBudget, MatchBudget.program_id, MatchBudget.cause, MatchBudget.period_key)


def by_key(session: Session, program_id: int, member_id: int, key: str) -> Donation | None:
    query = select(Donation).where(
        Donation.program_id == program_id, Donation.member_id == member_id, Donation.idempotency_key == key
    )
    return session.execute(query).scalar_one_or_none()


def add(session: Session, **fields: Any) -> Donation:
    row = Donation(**fields)
    session.add(row)
    session.flush()
    return row


def record_response(session: Session, row_id: int, response: dict[str, Any]) -> None:
    """The answer a replay of the donation's key gets."""
    row = session.get(Donation, row_id)
    assert row is not None
    row.response = response
    session.flush()


def locked_budget(session: Session, program_id: int, cause: str, period_key: str) -> MatchBudget:
    """The period's budget row, made if it is the first donation of the period, and locked (``FOR UPDATE``)."""
    _NEW_BUDGET(session, {"program_id": program_id, "cause": cause, "period_key": period_key, "used_minor": 0})
    query = (
        select(MatchBudget)
        .where(MatchBudget.program_id == program_id, MatchBudget.cause == cause, MatchBudget.period_key == period_key)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.execute(query).scalar_one()


def budget_used(session: Session, program_id: int, cause: str, period_key: str) -> int:
    """What the period's budget has matched so far (0 before its first donation), read without a lock."""
    query = select(MatchBudget.used_minor).where(
        MatchBudget.program_id == program_id, MatchBudget.cause == cause, MatchBudget.period_key == period_key
    )
    return int(session.execute(query).scalar_one_or_none() or 0)


def totals(
    session: Session, program_id: int, since: datetime | None, until: datetime | None
) -> dict[str, tuple[int, int, int, int]]:
    """Per cause: (points, value, matched, donors) of the donations in ``[since, until)``."""
    query = select(
        Donation.cause,
        func.sum(Donation.points),
        func.sum(Donation.value_minor),
        func.sum(Donation.matched_minor),
        func.count(func.distinct(Donation.member_id)),
    ).where(Donation.program_id == program_id)
    if since is not None:
        query = query.where(Donation.donated_at >= since)
    if until is not None:
        query = query.where(Donation.donated_at < until)
    rows = session.execute(query.group_by(Donation.cause)).all()
    return {cause: (int(p), int(v), int(m), int(d)) for cause, p, v, m, d in rows}


def of_cause(
    session: Session, program_id: int, cause: str, since: datetime | None, until: datetime | None
) -> Sequence[Donation]:
    query = select(Donation).where(Donation.program_id == program_id, Donation.cause == cause)
    if since is not None:
        query = query.where(Donation.donated_at >= since)
    if until is not None:
        query = query.where(Donation.donated_at < until)
    return session.execute(query.order_by(Donation.id)).scalars().all()


def member_given(session: Session, member_id: int) -> dict[str, tuple[int, int]]:
    """Per cause: the member's own (points, value)."""
    rows = session.execute(
        select(Donation.cause, func.sum(Donation.points), func.sum(Donation.value_minor))
        .where(Donation.member_id == member_id)
        .group_by(Donation.cause)
    ).all()
    return {cause: (int(points), int(value)) for cause, points, value in rows}


def standing_of(session: Session, member_ids: Collection[int]) -> Sequence[StandingGiftRow]:
    query = select(StandingGiftRow).where(StandingGiftRow.member_id.in_(list(member_ids)))
    return session.execute(query).scalars().all()


def standing(session: Session, member_id: int) -> StandingGiftRow | None:
    return session.execute(select(StandingGiftRow).where(StandingGiftRow.member_id == member_id)).scalar_one_or_none()


def set_standing(session: Session, program_id: int, member_id: int, gift: dict[str, Any], now: datetime) -> None:
    """Write the member's standing gift (``cause``, ``kind``, ``value``, ``after_event``), replacing any."""
    row = standing(session, member_id)
    if row is None:
        session.add(StandingGiftRow(program_id=program_id, member_id=member_id, updated_at=now, **gift))
    else:
        for name, value in gift.items():
            setattr(row, name, value)
        row.updated_at = now
    session.flush()


def clear_standing(session: Session, member_id: int) -> None:
    row = standing(session, member_id)
    if row is not None:
        session.delete(row)
        session.flush()
