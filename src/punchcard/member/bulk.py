"""Set-wise reads and writes of the ``members`` table (thousands of members per batch, in a few queries), for the
importer and the nightly tier review: other features call these, never the member repository or models."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, Select, Table, bindparam, select, update
from sqlalchemy.orm import Session

from punchcard.kit import bulk
from punchcard.kit.db import is_postgres
from punchcard.member.models import Member

_MEMBERS = cast(Table, Member.__table__)

TABLES = (_MEMBERS.name,)
"""The tables these functions fill, for ``kit.bulk.analyze``."""


def blocked_members(session: Session, program_id: int, external_ids: Sequence[str]) -> set[str]:
    found: set[str] = set()
    for chunk in bulk.chunks(external_ids):
        found.update(
            session.execute(
                select(Member.external_id).where(
                    Member.program_id == program_id, Member.external_id.in_(chunk), Member.status == "blocked"
                )
            ).scalars()
        )
    return found


def lock_members(session: Session, program_id: int, external_ids: Sequence[str]) -> list[Row[Any]]:
    """The members that exist, locked (in id order, as every other batch does, so batches never deadlock), with
    ``FOR NO KEY UPDATE`` like every member lock (docs/decisions.md, Performance 18): the nightly jobs' entries for
    these members must not wait for the import."""
    if is_postgres(session):
        query = (
            "SELECT id, external_id, status, enrolled_at, tier_code, tier_since, tier_grace_until, language,"
            " marketing_consent, birth_date, email FROM members WHERE program_id = %s AND external_id = ANY(%s)"
            " ORDER BY id FOR NO KEY UPDATE"
        )
        return bulk.pg_rows(session, query, (program_id, sorted(external_ids)))
    rows: list[Row[Any]] = []
    for chunk in bulk.chunks(sorted(external_ids)):
        rows += session.execute(  # type: ignore[arg-type]
            select(
                Member.id,
                Member.external_id,
                Member.status,
                Member.enrolled_at,
                Member.tier_code,
                Member.tier_since,
                Member.tier_grace_until,
                Member.language,
                Member.marketing_consent,
                Member.birth_date,
                Member.email,
            )
            .where(Member.program_id == program_id, Member.external_id.in_(chunk))
            .order_by(Member.id)
            .with_for_update(key_share=True)
        ).all()
    return rows


def reserve_ids(session: Session, count: int) -> list[int]:
    """``count`` ids for new members (``kit.bulk.reserve_ids``)."""
    return bulk.reserve_ids(session, _MEMBERS, count)


def insert_members(session: Session, records: list[dict[str, Any]]) -> None:
    bulk.insert_rows(session, _MEMBERS, records)


def update_tiers(session: Session, changes: list[dict[str, Any]]) -> None:
    """Set existing members' ``tier_code``, ``tier_since`` and ``tier_grace_until`` (``changes`` name the member by
    ``member_id``): one ``UPDATE … FROM unnest(arrays)`` on PostgreSQL instead of one statement per row, an
    executemany of plain Core ``UPDATE``s on SQLite."""
    if not changes:
        return
    if is_postgres(session):
        bulk.pg_rows(
            session,
            "UPDATE members SET tier_code = changed.tier_code, tier_since = changed.tier_since,"
            " tier_grace_until = changed.tier_grace_until"
            " FROM unnest(%s::integer[], %s::text[], %s::timestamptz[], %s::timestamptz[])"
            " AS changed (id, tier_code, tier_since, tier_grace_until) WHERE members.id = changed.id",
            (
                [change["member_id"] for change in changes],
                [change["tier_code"] for change in changes],
                [change["tier_since"] for change in changes],
                [change["tier_grace_until"] for change in changes],
            ),
            fetch=False,
        )
        return
    session.execute(
        update(_MEMBERS)
        .where(_MEMBERS.c.id == bindparam("member_id"))
        .values(
            tier_code=bindparam("tier_code"),
            tier_since=bindparam("tier_since"),
            tier_grace_until=bindparam("tier_grace_until"),
        ),
        changes,
    )


def lock_for_review(
    session: Session, program_id: int, *, after_id: int, up_to_id: int | None, limit: int
) -> Sequence[Row[int, str | None, datetime | None]]:
    """The next ``limit`` members (id, tier_code, tier_grace_until) by id after ``after_id`` (up to ``up_to_id``),
    locked ``FOR NO KEY UPDATE`` like every member lock, skipping members a request holds (``SKIP LOCKED``: the run
    reviews them once they are free)."""
    locked = _standings(program_id, after_id, up_to_id, limit).with_for_update(key_share=True, skip_locked=True)
    return session.execute(locked).all()


def tier_standings(
    session: Session, program_id: int, *, after_id: int, limit: int
) -> Sequence[Row[int, str | None, datetime | None]]:
    """``lock_for_review``'s rows, unlocked: what a review would see, for a preview that changes nothing."""
    return session.execute(_standings(program_id, after_id, None, limit)).all()


def _standings(
    program_id: int, after_id: int, up_to_id: int | None, limit: int
) -> Select[int, str | None, datetime | None]:
    query = select(Member.id, Member.tier_code, Member.tier_grace_until).where(
        Member.program_id == program_id, Member.id > after_id
    )
    if up_to_id is not None:
        query = query.where(Member.id <= up_to_id)
    return query.order_by(Member.id).limit(limit)


def move_tiers(session: Session, moves: Sequence[tuple[int, str]], at: datetime) -> None:
    """Move members (id, tier code) to new tiers at one moment ``at``, ending any grace period: the tier review's
    changes. Unlike ``update_tiers`` no per-row times are sent (psycopg formats each array element in Python, and
    two arrays of times were a tenth of a review batch)."""
    if not moves:
        return
    if is_postgres(session):
        bulk.pg_rows(
            session,
            "UPDATE members SET tier_code = changed.tier_code, tier_since = %s, tier_grace_until = NULL"
            " FROM unnest(%s::integer[], %s::text[]) AS changed (id, tier_code) WHERE members.id = changed.id",
            (at, [member_id for member_id, _ in moves], [code for _, code in moves]),
            fetch=False,
        )
        return
    session.execute(
        update(_MEMBERS)
        .where(_MEMBERS.c.id == bindparam("member_id"))
        .values(tier_code=bindparam("tier_code"), tier_since=at, tier_grace_until=None),
        [{"member_id": member_id, "tier_code": code} for member_id, code in moves],
    )


def member_ids(session: Session, program_id: int, *, after_id: int, up_to_id: int | None) -> list[int]:
    """The program's member ids after ``after_id`` up to ``up_to_id`` (``None``: all after), in order, unlocked."""
    query = select(Member.id).where(Member.program_id == program_id, Member.id > after_id)
    if up_to_id is not None:
        query = query.where(Member.id <= up_to_id)
    return [int(member_id) for member_id in session.execute(query.order_by(Member.id)).scalars()]


def update_graces(session: Session, changes: list[dict[str, Any]]) -> None:
    """Set existing members' ``tier_grace_until`` (``changes`` name the member by ``member_id``), as
    ``update_tiers`` does."""
    if not changes:
        return
    if is_postgres(session):
        bulk.pg_rows(
            session,
            "UPDATE members SET tier_grace_until = changed.tier_grace_until"
            " FROM unnest(%s::integer[], %s::timestamptz[]) AS changed (id, tier_grace_until)"
            " WHERE members.id = changed.id",
            ([change["member_id"] for change in changes], [change["tier_grace_until"] for change in changes]),
            fetch=False,
        )
        return
    session.execute(
        update(_MEMBERS)
        .where(_MEMBERS.c.id == bindparam("member_id"))
        .values(tier_grace_until=bindparam("tier_grace_until")),
        changes,
    )
