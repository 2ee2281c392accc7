"""Reading and writing memberships and their changes. A row is read and written under the member's row lock, which
the caller holds (the event path) or takes (the jobs)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, select
from sqlalchemy.orm import Session

from punchcard.membership.domain import (
    BillingPeriod,
    Membership,
    MembershipEvent,
    MembershipRenewed,
    MembershipStarted,
    Status,
)
from punchcard.membership.models import MembershipChange, MembershipRow


def find(session: Session, member_id: int) -> MembershipRow | None:
    return session.execute(select(MembershipRow).where(MembershipRow.member_id == member_id)).scalar_one_or_none()


def of_subscription(session: Session, program_id: int, subscription_ref: str) -> int | None:
    """The member whose membership is paid by the provider's subscription ``subscription_ref``."""
    return session.execute(
        select(MembershipRow.member_id)
        .where(MembershipRow.program_id == program_id, MembershipRow.subscription_ref == subscription_ref)
        .order_by(MembershipRow.updated_at.desc())
        .limit(1)
    ).scalar_one_or_none()


_CURRENT = select(*MembershipRow.__table__.columns).where(MembershipRow.member_id == bindparam("member_id"))
"""Built once: the event path asks for a member's membership on every purchase in a program that sells plans, and
building and loading an ORM entity cost several times the indexed lookup (docs/performance.md, finding 14)."""


def current(session: Session, member_id: int) -> Membership | None:
    """The member's membership as last written, read without the ORM (``find`` is for writing it)."""
    row = session.connection().execute(_CURRENT, {"member_id": member_id}).one_or_none()
    return as_domain(row) if row is not None else None


def as_domain(row: Any) -> Membership:
    """A membership from its row (an entity, or a Core row of the same columns)."""
    return Membership(
        plan=row.plan,
        period=BillingPeriod(row.period),
        status=Status(row.status),
        started_at=row.started_at,
        current_period_start=row.current_period_start,
        current_period_end=row.current_period_end,
        paid_minor=row.paid_minor,
        trial=row.trial,
        payment_ref=row.payment_ref,
        subscription_ref=row.subscription_ref,
        cancel_at_period_end=row.cancel_at_period_end,
        grace_until=row.grace_until,
        failed_at=row.failed_at,
        ended_at=row.ended_at,
        trialled=frozenset(row.trialled),
        gifted_until=row.gifted_until,
    )


def write(
    session: Session,
    program_id: int,
    member_id: int,
    row: MembershipRow | None,
    membership: Membership,
    *,
    changes_at: datetime | None,
    gift_at: datetime | None,
    now: datetime,
) -> MembershipRow:
    values: dict[str, Any] = {
        "plan": membership.plan,
        "period": membership.period.value,
        "status": membership.status.value,
        "started_at": membership.started_at,
        "current_period_start": membership.current_period_start,
        "current_period_end": membership.current_period_end,
        "paid_minor": membership.paid_minor,
        "trial": membership.trial,
        "payment_ref": membership.payment_ref,
        "subscription_ref": membership.subscription_ref,
        "cancel_at_period_end": membership.cancel_at_period_end,
        "grace_until": membership.grace_until,
        "failed_at": membership.failed_at,
        "ended_at": membership.ended_at,
        "trialled": sorted(membership.trialled),
        "gifted_until": membership.gifted_until,
        "changes_at": changes_at,
        "gift_at": gift_at,
        "updated_at": now,
    }
    if row is None:
        row = MembershipRow(program_id=program_id, member_id=member_id, **values)
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
    session.flush()
    return row


def record_changes(session: Session, events: Sequence[MembershipEvent], now: datetime) -> None:
    """One ``membership_changes`` row per event (append-only)."""
    for event in events:
        assert event.member_id is not None
        session.add(
            MembershipChange(
                program_id=event.program_id,
                member_id=event.member_id,
                kind=event.type,
                plan=event.plan,
                period=event.period,
                status=event.status,
                trial=bool(getattr(event, "trial", False) or getattr(event, "was_trial", False)),
                converted=bool(getattr(event, "converted", False)),
                paid_minor=int(getattr(event, "paid_minor", 0)),
                refund_minor=int(getattr(event, "refund_minor", 0)),
                occurred_at=event.occurred_at,
                recorded_at=now,
            )
        )


def due(session: Session, program_id: int, at: datetime, limit: int) -> list[int]:
    """The members whose membership time has changed by ``at``, or whose monthly reward is due."""
    return list(
        session.execute(
            select(MembershipRow.member_id)
            .where(
                MembershipRow.program_id == program_id,
                or_(MembershipRow.changes_at <= at, MembershipRow.gift_at <= at),
            )
            .order_by(MembershipRow.member_id)
            .limit(limit)
        ).scalars()
    )


def rows_of(session: Session, program_id: int) -> list[MembershipRow]:
    """Every membership of the program (the console's figures; a program's paying members, not its members)."""
    return list(session.execute(select(MembershipRow).where(MembershipRow.program_id == program_id)).scalars())


def changes_between(session: Session, program_id: int, since: datetime, until: datetime) -> list[MembershipChange]:
    return list(
        session.execute(
            select(MembershipChange)
            .where(
                MembershipChange.program_id == program_id,
                MembershipChange.occurred_at >= since,
                MembershipChange.occurred_at < until,
            )
            .order_by(MembershipChange.occurred_at, MembershipChange.id)
        ).scalars()
    )


def standing_before(session: Session, program_id: int, moment: datetime) -> list[MembershipChange]:
    """What the change log says of each member's membership just before ``moment``, in two rows at most a member:
    their last change before it (its status is where the membership stood) and their last start or renewal before it
    (whether the period under way was a trial). Last by ``occurred_at``, then by the order written. The console's
    figures fold these instead of the program's whole history."""
    found: list[MembershipChange] = []
    for kinds in (None, (MembershipStarted.type, MembershipRenewed.type)):
        ranked = select(
            MembershipChange.id,
            func.row_number()
            .over(
                partition_by=MembershipChange.member_id,
                order_by=(MembershipChange.occurred_at.desc(), MembershipChange.id.desc()),
            )
            .label("place"),
        ).where(MembershipChange.program_id == program_id, MembershipChange.occurred_at < moment)
        if kinds is not None:
            ranked = ranked.where(MembershipChange.kind.in_(kinds))
        last = ranked.subquery()
        found += session.execute(
            select(MembershipChange).join(last, last.c.id == MembershipChange.id).where(last.c.place == 1)
        ).scalars()
    return sorted({change.id: change for change in found}.values(), key=lambda change: (change.occurred_at, change.id))
