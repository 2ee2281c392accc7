"""Tier changes: immediate upgrades, refund corrections, and the scheduled review with its grace period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from punchcard.ledger import repository as ledger
from punchcard.ledger.domain import Account
from punchcard.ledger.models import LedgerEntry
from punchcard.member.models import Member
from punchcard.tier.domain import Progress, ReviewOutcome, TierPolicy, progress, review
from punchcard.tier.models import TierChange


@dataclass(frozen=True)
class TierChanged:
    from_code: str | None
    to_code: str
    reason: str

    def effect(self) -> dict[str, object]:
        return {"type": "tier_changed", "from": self.from_code, "to": self.to_code, "reason": self.reason}


def qualifying_value(session: Session, member_id: int, policy: TierPolicy, zone: ZoneInfo, now: datetime) -> int:
    return ledger.sum_account(session, member_id, Account.TIER_CREDITS, policy.window.start(now, zone), now)


def status(
    session: Session, member: Member, policy: TierPolicy, zone: ZoneInfo, now: datetime, value: int | None = None
) -> Progress:
    """The member's tier and progress at ``now``; ``value`` is the qualifying value when the caller already read it
    (``ledger.repository.balances_and_credits`` over ``policy.window``)."""
    value = qualifying_value(session, member.id, policy, zone, now) if value is None else value
    return progress(policy, member.tier_code, value, member.tier_grace_until)


def _change(
    session: Session, member: Member, to_code: str, reason: str, at: datetime, event_id: int | None
) -> TierChanged:
    changed = TierChanged(member.tier_code, to_code, reason)
    session.add(
        TierChange(
            program_id=member.program_id,
            member_id=member.id,
            from_code=member.tier_code,
            to_code=to_code,
            reason=reason,
            changed_at=at,
            event_id=event_id,
        )
    )
    member.tier_code, member.tier_since, member.tier_grace_until = to_code, at, None
    return changed


def assign_entry_tier(session: Session, member: Member, policy: TierPolicy, at: datetime) -> None:
    _change(session, member, policy.tiers[0].code, "enrolment", at, None)


def upgrade_if_earned(
    session: Session,
    member: Member,
    policy: TierPolicy,
    zone: ZoneInfo,
    now: datetime,
    event_id: int | None,
    value: int | None = None,
) -> TierChanged | None:
    """Upgrade at once when the member's credits in the window reach a higher tier; never downgrade here.

    ``value`` is the qualifying value at ``now`` when the caller already read it.
    """
    if member.tier_grace_until is None and policy.rank(member.tier_code) == len(policy.tiers) - 1:
        return None  # already in the top tier and not in grace: nothing to rise to or to earn back
    value = qualifying_value(session, member.id, policy, zone, now) if value is None else value
    qualified = policy.qualifying(value)
    if policy.rank(qualified.code) > policy.rank(member.tier_code):
        return _change(session, member, qualified.code, "upgrade", now, event_id)
    if qualified.code == policy.by_code(member.tier_code).code and member.tier_grace_until is not None:
        member.tier_grace_until = None  # earned it back inside the grace period
    return None


def after_refund(
    session: Session,
    member: Member,
    policy: TierPolicy,
    zone: ZoneInfo,
    *,
    now: datetime,
    order_time: datetime,
    event_id: int | None,
) -> TierChanged | None:
    """Undo an upgrade that the refunded order paid for, at once; an earlier-earned tier waits for review.

    The member falls back to the better of what they now qualify for and the tier they held before the order.
    """
    qualified = policy.qualifying(qualifying_value(session, member.id, policy, zone, now))
    if policy.rank(qualified.code) >= policy.rank(member.tier_code):
        return None
    held_before = session.execute(
        select(TierChange.to_code)
        .where(TierChange.member_id == member.id, TierChange.changed_at < order_time)
        .order_by(TierChange.changed_at.desc(), TierChange.id.desc())
        .limit(1)
    ).scalar_one_or_none()
    floor = policy.by_code(held_before)
    target = qualified if policy.rank(qualified.code) >= policy.rank(floor.code) else floor
    if policy.rank(target.code) < policy.rank(member.tier_code):
        return _change(session, member, target.code, "refund", now, event_id)
    return None


def _credits_by_member(
    session: Session, first_id: int, last_id: int, since: datetime | None, until: datetime
) -> dict[int, int]:
    """Tier credits in the window of every member with an id from ``first_id`` to ``last_id``, in one grouped query.

    A range of ids, not a list: PostgreSQL reads one stretch of ``ix_ledger_entries_member`` (member_id, account, id)
    instead of descending the index once per member, about a tenth of the pages for a batch of members (members
    skipped by the batch, or of other programs, are summed too and ignored).
    """
    query = (
        select(LedgerEntry.member_id, func.sum(LedgerEntry.amount))
        .where(
            LedgerEntry.member_id >= first_id,
            LedgerEntry.member_id <= last_id,
            LedgerEntry.account == Account.TIER_CREDITS.value,
            LedgerEntry.occurred_at <= until,
        )
        .group_by(LedgerEntry.member_id)
    )
    if since is not None:
        query = query.where(LedgerEntry.occurred_at >= since)
    return {member_id: int(total) for member_id, total in session.execute(query).all()}


def review_batch(
    session: Session,
    program_id: int,
    policy: TierPolicy,
    zone: ZoneInfo,
    *,
    at: datetime,
    after_id: int,
    limit: int,
    up_to_id: int | None = None,
) -> tuple[int, int] | None:
    """Review one batch of members (by id, after ``after_id`` and up to ``up_to_id``); returns (last id, members
    seen), ``None`` when done.

    Members whose rows a live request holds are skipped (``SKIP LOCKED``) and reviewed on the next run; reviewing
    again at the same ``at`` changes nothing, since every outcome is a function of the stored state.
    """
    query = select(Member.id, Member.tier_code, Member.tier_grace_until).where(
        Member.program_id == program_id, Member.id > after_id
    )
    if up_to_id is not None:
        query = query.where(Member.id <= up_to_id)
    members = session.execute(query.order_by(Member.id).limit(limit).with_for_update(skip_locked=True)).all()
    if not members:
        return None
    values = _credits_by_member(session, members[0].id, members[-1].id, policy.window.start(at, zone), at)
    updates: list[dict[str, object]] = []
    changes: list[dict[str, object]] = []
    for row in members:
        decision = review(policy, row.tier_code, values.get(row.id, 0), row.tier_grace_until, at)
        if decision.outcome in (ReviewOutcome.UPGRADE, ReviewOutcome.DOWNGRADE) or row.tier_code is None:
            updates.append({"id": row.id, "tier_code": decision.tier.code, "tier_since": at, "tier_grace_until": None})
            changes.append(
                {
                    "program_id": program_id,
                    "member_id": row.id,
                    "from_code": row.tier_code,
                    "to_code": decision.tier.code,
                    "reason": decision.outcome.value,
                    "changed_at": at,
                }
            )
        elif decision.outcome in (ReviewOutcome.START_GRACE, ReviewOutcome.END_GRACE):
            updates.append({"id": row.id, "tier_grace_until": decision.grace_until})
    # One statement per kind of change, executed for many rows at once (not one round trip per member).
    table = Member.__table__
    for columns in (("tier_code", "tier_since", "tier_grace_until"), ("tier_grace_until",)):
        rows = [
            {"member_id": values["id"], **{name: values[name] for name in columns}}
            for values in updates
            if set(values) == {"id", *columns}
        ]
        if rows:
            statement = (
                update(table)  # type: ignore[arg-type]
                .where(table.c.id == bindparam("member_id"))
                .values({name: bindparam(name) for name in columns})
            )
            session.execute(statement, rows)
    if changes:
        session.execute(insert(TierChange.__table__), changes)  # type: ignore[arg-type]
    return int(members[-1].id), len(members)
