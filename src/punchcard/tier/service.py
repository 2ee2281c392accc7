"""Tier changes: immediate upgrades, refund corrections, and the scheduled review with its grace period."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, String, bindparam, func, insert, literal, select, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session

from punchcard.kit.db import UtcDateTime
from punchcard.kit.events import DomainEvent
from punchcard.kit.money import format_amount, from_minor
from punchcard.ledger import reports as ledger_reports
from punchcard.ledger import service as ledger
from punchcard.member import bulk as member_bulk
from punchcard.member.service import Member
from punchcard.outbox import service as outbox
from punchcard.tier.domain import (
    Metric,
    Progress,
    Review,
    ReviewOutcome,
    TierAtRisk,
    TierChanged,
    TierDowngraded,
    TierPolicy,
    TierUpgraded,
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
    (``ledger.service.balances_and_credits`` over ``policy.window``)."""
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


@dataclass(frozen=True)
class Reviewed:
    """What a review batch did: the last member id it reached, how many members it reviewed, and the members of its
    range that a request held (passed over, to be reviewed once free: ``jobs.service``)."""

    last_id: int
    seen: int
    held: list[int]


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
    currency: str,
    up_to_id: int | None = None,
) -> Reviewed | None:
    """Review one batch of members (by id, after ``after_id`` and up to ``up_to_id``); ``None`` when there is no
    member left in the range.

    Members whose rows a live request holds are passed over (``SKIP LOCKED``) and named in ``Reviewed.held``, for
    the caller to review once they are free; reviewing again at the same ``at`` changes nothing, since every outcome
    is a function of the stored state.
    """
    members = member_bulk.lock_for_review(session, program_id, after_id=after_id, up_to_id=up_to_id, limit=limit)
    last_id = int(members[-1].id) if members else up_to_id
    reviewed = {int(row.id) for row in members}
    in_range = member_bulk.member_ids(session, program_id, after_id=after_id, up_to_id=last_id)
    held = [member_id for member_id in in_range if member_id not in reviewed]
    if not members:
        return Reviewed(held[-1], 0, held) if held else None
    since = policy.window.start(at, zone)
    values = ledger_reports.tier_credits_by_member(session, members[0].id, members[-1].id, since, at)
    moves: list[tuple[int, str]] = []
    graces: list[dict[str, object]] = []
    changes: list[dict[str, object]] = []
    events: list[TierChanged] = []
    at_risk: list[DomainEvent] = []
    for row in members:
        decision = review(policy, row.tier_code, values.get(row.id, 0), row.tier_grace_until, at)
        if decision.outcome in (ReviewOutcome.UPGRADE, ReviewOutcome.DOWNGRADE) or row.tier_code is None:
            moves.append((row.id, decision.tier.code))
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
            graces.append({"member_id": row.id, "tier_grace_until": decision.grace_until})
            if decision.outcome is ReviewOutcome.START_GRACE:
                at_risk.append(_at_risk(policy, program_id, row.id, decision, values.get(row.id, 0), at, currency))
    member_bulk.move_tiers(session, moves, at)
    member_bulk.update_graces(session, graces)
    _record_changes(session, changes, at)
    _publish_changes(session, program_id, events, at, now)
    outbox.publish(session, at_risk, now)
    return Reviewed(int(members[-1].id), len(members), held)


def _at_risk(
    policy: TierPolicy, program_id: int, member_id: int, decision: Review, value: int, at: datetime, currency: str
) -> TierAtRisk:
    assert decision.grace_until is not None
    needed = decision.tier.threshold - value
    return TierAtRisk(
        program_id=program_id,
        member_id=member_id,
        occurred_at=at,
        tier=decision.tier.code,
        drops_to=policy.qualifying(value).code,
        metric=policy.metric.value,
        needed=format_amount(from_minor(needed, currency), currency)
        if policy.metric is Metric.AMOUNT_SPENT
        else needed,
        grace_until=decision.grace_until,
    )


def _publish_changes(session: Session, program_id: int, events: list[TierChanged], at: datetime, now: datetime) -> None:
    """The review batch's ``tier.*`` events. On PostgreSQL their outbox rows are built in the database from arrays
    of the events' facts, one INSERT per kind (``outbox.selected``, which checks the payload against the event's
    fields): a review moves thousands of members, and inserting their events row by row from Python cost about as
    much as the rest of the review (docs/performance.md). SQLite publishes them as every other change does."""
    if not events:
        return
    if session.get_bind().dialect.name != "postgresql":
        outbox.publish(session, events, now)
        return
    for kind in (TierUpgraded, TierDowngraded):
        mine = [event for event in events if type(event) is kind]
        if not mine:
            continue
        facts = (
            func.unnest(
                bindparam("members", [event.member_id for event in mine], type_=ARRAY(BigInteger)),
                bindparam("froms", [event.from_tier for event in mine], type_=ARRAY(String)),
                bindparam("tos", [event.to_tier for event in mine], type_=ARRAY(String)),
                bindparam("reasons", [event.reason for event in mine], type_=ARRAY(String)),
            )
            .table_valued("member_id", "from_tier", "to_tier", "reason")
            .render_derived(name="changed")
        )
        columns = outbox.selected(
            "postgresql",
            kind,
            program_id=program_id,
            member_id=facts.c.member_id,
            occurred_at=literal(at, UtcDateTime()),
            recorded_at=now,
            payload={"from_tier": facts.c.from_tier, "to_tier": facts.c.to_tier, "reason": facts.c.reason},
        )
        session.execute(outbox.insert_selected(select(*columns).select_from(facts)))
    outbox.wrote(session)


_RECORD_CHANGES = text(
    "INSERT INTO tier_changes (program_id, member_id, from_code, to_code, reason, changed_at)"
    " SELECT :program, v.member_id, v.from_code, v.to_code, v.reason, :at"
    " FROM unnest(CAST(:members AS bigint[]), CAST(:froms AS varchar[]), CAST(:tos AS varchar[]),"
    " CAST(:reasons AS varchar[])) WITH ORDINALITY AS v(member_id, from_code, to_code, reason, n)"
    " ORDER BY v.n"
).bindparams(bindparam("at", type_=UtcDateTime()))


def _record_changes(session: Session, changes: list[dict[str, object]], at: datetime) -> None:
    """The review batch's tier changes: on PostgreSQL one INSERT of arrays (``unnest``), about a fifth of the server's
    time of the same rows executed one by one; SQLite runs one statement executed for many rows."""
    if not changes:
        return
    if session.get_bind().dialect.name == "postgresql":
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
    session.execute(insert(TierChange.__table__), changes)  # type: ignore[arg-type]


def distribution(session: Session, program_id: int, before: datetime) -> dict[str, int]:
    """Members by the tier their latest change before ``before`` gave them (enrolment records the first tier)."""
    ranked = (
        select(
            TierChange.to_code,
            func.row_number()
            .over(
                partition_by=TierChange.member_id,
                order_by=(TierChange.changed_at.desc(), TierChange.id.desc()),
            )
            .label("rank"),
        )
        .where(TierChange.program_id == program_id, TierChange.changed_at < before)
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.to_code, func.count()).where(ranked.c.rank == 1).group_by(ranked.c.to_code)
    ).all()
    return {row[0]: int(row[1]) for row in rows}
