"""Tier changes: immediate upgrades, refund corrections, and the scheduled review with its grace period."""

from __future__ import annotations

from datetime import datetime
from typing import cast
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.orm import Session

from punchcard.kit.db import UtcDateTime
from punchcard.ledger import repository as ledger
from punchcard.ledger.domain import Account
from punchcard.ledger.models import LedgerEntry
from punchcard.member.models import Member
from punchcard.outbox import service as outbox
from punchcard.tier.domain import (
    Progress,
    ReviewOutcome,
    TierChanged,
    TierPolicy,
    progress,
    review,
    tier_changed,
)
from punchcard.tier.models import TierChange


def qualifying_value(session: Session, member_id: int, policy: TierPolicy, zone: ZoneInfo, now: datetime) -> int:
    return ledger.tier_credits(session, member_id, policy.window.start(now, zone), now)


def status(
    session: Session, member: Member, policy: TierPolicy, zone: ZoneInfo, now: datetime, value: int | None = None
) -> Progress:
    """The member's tier and progress at ``now``; ``value`` is the qualifying value when the caller already read it
    (``ledger.repository.balances_and_credits`` over ``policy.window``)."""
    value = qualifying_value(session, member.id, policy, zone, now) if value is None else value
    return progress(policy, member.tier_code, value, member.tier_grace_until)


def change(
    session: Session,
    member: Member,
    policy: TierPolicy,
    to_code: str,
    reason: str,
    at: datetime,
    event_id: int | None,
) -> TierChanged:
    """Move the member to ``to_code`` now (entry tier, an upgrade earned, a refund's correction) and record the
    change; returns its event for the caller to publish."""
    changed = tier_changed(
        policy,
        program_id=member.program_id,
        member_id=member.id,
        from_tier=member.tier_code,
        to_tier=to_code,
        reason=reason,
        at=at,
    )
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
    change(session, member, policy, policy.tiers[0].code, "enrolment", at, None)  # told by ``member.enrolled``


def can_rise(member: Member, policy: TierPolicy) -> bool:
    """Whether earning can change the member's tier: not when already in the top tier and not in grace (nothing to
    rise to or to earn back), so the caller need not read the qualifying value at all."""
    return member.tier_grace_until is not None or policy.rank(member.tier_code) < len(policy.tiers) - 1


def end_grace(member: Member) -> None:
    """The member earned their tier back inside the grace period."""
    member.tier_grace_until = None


def held_before(session: Session, member_id: int, moment: datetime) -> str | None:
    """The tier the member held just before ``moment`` (from the recorded changes)."""
    return session.execute(
        select(TierChange.to_code)
        .where(TierChange.member_id == member_id, TierChange.changed_at < moment)
        .order_by(TierChange.changed_at.desc(), TierChange.id.desc())
        .limit(1)
    ).scalar_one_or_none()


def _credits_by_member(
    session: Session, first_id: int, last_id: int, since: datetime | None, until: datetime
) -> dict[int, int]:
    """Tier credits in the window of every member with an id from ``first_id`` to ``last_id``, in one grouped query.

    A range of ids, not a list: PostgreSQL reads one stretch of ``ix_ledger_entries_member`` (member_id, account, id)
    instead of descending the index once per member, about a tenth of the pages for a batch of members (members
    skipped by the batch, or of other programs, are summed too and ignored).
    """
    # The bounds are written into the statement: with parameters, PostgreSQL switches to a generic plan after a few
    # batches and walks ix_ledger_entries_rule_firings instead, visiting the heap for every entry of every account.
    query = (
        select(LedgerEntry.member_id, func.sum(LedgerEntry.amount))
        .where(
            LedgerEntry.member_id >= bindparam("first_id", first_id, literal_execute=True),
            LedgerEntry.member_id <= bindparam("last_id", last_id, literal_execute=True),
            LedgerEntry.account == Account.TIER_CREDITS.value,
            LedgerEntry.occurred_at <= until,
        )
        .group_by(LedgerEntry.member_id)
    )
    if since is not None:
        query = query.where(LedgerEntry.occurred_at >= since)
    # Member accounts always name their member (a CHECK constraint): only program accounts' legs have none.
    return {cast(int, member_id): int(total) for member_id, total in session.execute(query).all()}


def review_batch(
    session: Session,
    program_id: int,
    policy: TierPolicy,
    zone: ZoneInfo,
    *,
    at: datetime,
    now: datetime,
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
    # FOR NO KEY UPDATE like every member lock (member.repository), skipping members a request holds.
    members = session.execute(
        query.order_by(Member.id).limit(limit).with_for_update(key_share=True, skip_locked=True)
    ).all()
    if not members:
        return None
    values = _credits_by_member(session, members[0].id, members[-1].id, policy.window.start(at, zone), at)
    updates: list[dict[str, object]] = []
    changes: list[dict[str, object]] = []
    events: list[TierChanged] = []
    for row in members:
        decision = review(policy, row.tier_code, values.get(row.id, 0), row.tier_grace_until, at)
        if decision.outcome in (ReviewOutcome.UPGRADE, ReviewOutcome.DOWNGRADE) or row.tier_code is None:
            updates.append({"id": row.id, "tier_code": decision.tier.code, "tier_since": at, "tier_grace_until": None})
            events.append(
                tier_changed(
                    policy,
                    program_id=program_id,
                    member_id=row.id,
                    from_tier=row.tier_code,
                    to_tier=decision.tier.code,
                    reason=decision.outcome.value,
                    at=at,
                )
            )
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
    _write_review(session, updates, changes, at)
    outbox.publish(session, events, now)
    return int(members[-1].id), len(members)


_SET_TIERS = text(
    "UPDATE members SET tier_code = v.tier_code, tier_since = :at, tier_grace_until = NULL"
    " FROM unnest(CAST(:ids AS bigint[]), CAST(:codes AS varchar[])) AS v(id, tier_code) WHERE members.id = v.id"
).bindparams(bindparam("at", type_=UtcDateTime()))
_SET_GRACE = text(
    "UPDATE members SET tier_grace_until = v.grace_until"
    " FROM unnest(CAST(:ids AS bigint[]), CAST(:graces AS timestamptz[])) AS v(id, grace_until)"
    " WHERE members.id = v.id"
)
_RECORD_CHANGES = text(
    "INSERT INTO tier_changes (program_id, member_id, from_code, to_code, reason, changed_at)"
    " SELECT :program, v.member_id, v.from_code, v.to_code, v.reason, :at"
    " FROM unnest(CAST(:members AS bigint[]), CAST(:froms AS varchar[]), CAST(:tos AS varchar[]),"
    " CAST(:reasons AS varchar[])) WITH ORDINALITY AS v(member_id, from_code, to_code, reason, n)"
    " ORDER BY v.n"
).bindparams(bindparam("at", type_=UtcDateTime()))


def _write_review(
    session: Session, updates: list[dict[str, object]], changes: list[dict[str, object]], at: datetime
) -> None:
    """Write a review batch's decisions: new tiers, grace periods started or ended, and the tier changes.

    On PostgreSQL one statement per kind of change, the rows passed as arrays (``unnest``): about a fifth of the
    server's time of the same rows executed one by one. SQLite runs one statement executed for many rows.
    """
    tiers = [values for values in updates if "tier_code" in values]
    graces = [values for values in updates if "tier_code" not in values]
    if session.get_bind().dialect.name == "postgresql":
        if tiers:
            codes = [values["tier_code"] for values in tiers]
            session.execute(_SET_TIERS, {"ids": [values["id"] for values in tiers], "codes": codes, "at": at})
        if graces:
            until = [values["tier_grace_until"] for values in graces]
            session.execute(_SET_GRACE, {"ids": [values["id"] for values in graces], "graces": until})
        if changes:
            session.execute(
                _RECORD_CHANGES,
                {
                    "program": changes[0]["program_id"],
                    "members": [change["member_id"] for change in changes],
                    "froms": [change["from_code"] for change in changes],
                    "tos": [change["to_code"] for change in changes],
                    "reasons": [change["reason"] for change in changes],
                    "at": at,
                },
            )
        return
    table = Member.__table__
    for rows, columns in ((tiers, ("tier_code", "tier_since", "tier_grace_until")), (graces, ("tier_grace_until",))):
        if rows:
            statement = (
                update(table)  # type: ignore[arg-type]
                .where(table.c.id == bindparam("member_id"))
                .values({name: bindparam(name) for name in columns})
            )
            session.execute(
                statement, [{"member_id": row["id"], **{name: row[name] for name in columns}} for row in rows]
            )
    if changes:
        session.execute(insert(TierChange.__table__), changes)  # type: ignore[arg-type]
