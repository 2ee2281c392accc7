"""Finding and locking members. Every balance-changing operation starts with ``lock``: one writer per member."""

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Select, bindparam, case, func, or_, select
from sqlalchemy.orm import Session

from punchcard.kit.personal import Activity
from punchcard.kit.spans import Span, span_of
from punchcard.member.domain import ACTIVE, ERASED, pseudonym
from punchcard.member.errors import MemberErased, MemberNotFound
from punchcard.member.models import Member, PseudonymKey

_BY_EXTERNAL_ID = select(Member).where(
    Member.program_id == bindparam("program_id"), Member.external_id == bindparam("external_id")
)
# Every lock on a member row is FOR NO KEY UPDATE (``key_share=True``), never FOR UPDATE (docs/decisions.md,
# Performance 18): it excludes every other member lock, so operations on one member still queue, but not the FOR KEY
# SHARE that a foreign key check takes on the row. A job inserting an entry for a lot it claimed must not wait for the
# request that holds the lot's member while that request waits for the lot: that cycle was a deadlock.
_BY_EXTERNAL_ID_LOCKED = _BY_EXTERNAL_ID.with_for_update(key_share=True).execution_options(populate_existing=True)
"""Built once: the API reads a member on almost every request (docs/performance.md, finding 14)."""


def read_with(columns: Callable[[Any], Sequence[Any]], *, by_id: bool = False) -> Select[Any]:
    """The member named by ``program_id`` and ``member_id`` (its external id), or with ``by_id`` by ``id``, with
    ``columns(Member.id)`` read in the same round trip, unlocked: for a read of the member and what other features
    keep about them (``member.http``). The row is the first column of the result."""
    where = (Member.id == bindparam("id"),) if by_id else (Member.external_id == bindparam("member_id"),)
    return select(Member, *columns(Member.id)).where(Member.program_id == bindparam("program_id"), *where)


def locked_with(columns: Callable[[Any], Sequence[Any]]) -> Select[Any]:
    """The member named by the bound parameters ``program_id`` and ``member_id`` (its external id), locked like every
    member lock and reloaded, with ``columns(Member.id)`` read in the same round trip: for a feature that must know
    more about the member before it writes (``event.repository.arrival``: whether the event is a replay, what is
    due). The row is the first column of the result."""
    return (
        select(Member, *columns(Member.id))
        .where(Member.program_id == bindparam("program_id"), Member.external_id == bindparam("member_id"))
        .with_for_update(of=Member, key_share=True)
        .execution_options(populate_existing=True)
    )


def claiming(query: Select[Any], member_id: Any, *also: Any) -> Select[Any]:
    """A job's claim: ``query`` joined to each row's member (``member_id``: its column), locking the member like every
    member lock and ``also``'s rows with it, and skipping rows whose member another transaction holds. A job then never
    waits on a request, and a request that meets a job's member waits at its first lock, before it holds anything the
    job needs (docs/decisions.md, issue 9 entry 3)."""
    return query.join(Member, Member.id == member_id).with_for_update(
        of=[Member, *also], key_share=True, skip_locked=True
    )


def find(session: Session, program_id: int, external_id: str, *, lock: bool = False) -> Member | None:
    query = _BY_EXTERNAL_ID_LOCKED if lock else _BY_EXTERNAL_ID
    return session.execute(query, {"program_id": program_id, "external_id": external_id}).scalar_one_or_none()


def get(session: Session, program_id: int, external_id: str, *, lock: bool = False) -> Member:
    member = find(session, program_id, external_id, lock=lock)
    if member is None:
        raise missing(session, program_id, external_id)
    return member


def not_found(external_id: str) -> MemberNotFound:
    return MemberNotFound(f"no member with external_id {external_id!r}", [{"external_id": external_id}])


def missing(session: Session, program_id: int, external_id: str) -> MemberNotFound | MemberErased:
    """Why no member has ``external_id``: ``member_erased`` when an erased member had it (the message does not repeat
    the id, so a refusal stored later keeps no copy of it), else ``member_not_found``."""
    if erased_as(session, program_id, external_id) is not None:
        return MemberErased("this member was erased")
    return not_found(external_id)


def erased_as(session: Session, program_id: int, external_id: str) -> Member | None:
    """The erased member whose external id was ``external_id``, if there is one."""
    key = session.execute(select(PseudonymKey.key).where(PseudonymKey.program_id == program_id)).scalar_one_or_none()
    found = find(session, program_id, pseudonym(key, external_id)) if key is not None else None
    return found if found is not None and found.status == ERASED else None


def lock(session: Session, member: Member) -> None:
    """Take the member's row lock (PostgreSQL, ``FOR NO KEY UPDATE``) and reload the row as locked, in one query;
    SQLite already serialises writers with BEGIN IMMEDIATE."""
    lock_id(session, member.id)


def lock_id(session: Session, member_id: int) -> None:
    """``lock`` by id; a ``Member`` already in the session is reloaded as locked."""
    query = (
        select(Member)
        .where(Member.id == member_id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    )
    session.execute(query).scalar_one()


def try_lock(session: Session, member_id: int) -> bool:
    """Lock the member's row (``FOR NO KEY UPDATE``) unless another transaction holds it (``SKIP LOCKED``); for batch
    jobs, which so never wait on a request."""
    query = select(Member.id).where(Member.id == member_id).with_for_update(key_share=True, skip_locked=True)
    return session.execute(query).scalar_one_or_none() is not None


def count(session: Session, program_id: int) -> int:
    return int(session.execute(select(func.count()).where(Member.program_id == program_id)).scalar_one())


def by_id(session: Session, program_id: int, member_id: int) -> Member | None:
    return session.execute(
        select(Member).where(Member.program_id == program_id, Member.id == member_id)
    ).scalar_one_or_none()


def by_ids(session: Session, member_ids: Sequence[int]) -> dict[int, Member]:
    if not member_ids:
        return {}
    found = session.execute(select(Member).where(Member.id.in_(set(member_ids)))).scalars()
    return {member.id: member for member in found}


def by_email(session: Session, program_id: int, email: str) -> Member | None:
    """The program's oldest member with this e-mail address, compared without regard to case."""
    return session.execute(
        select(Member)
        .where(Member.program_id == program_id, func.lower(Member.email) == email.lower())
        .order_by(Member.id)
        .limit(1)
    ).scalar_one_or_none()


def search(session: Session, program_id: int, text: str, limit: int) -> Sequence[Member]:
    """Members whose e-mail, external id or name contains ``text`` (any case), exact external id first; without text,
    the most recently enrolled."""
    query = select(Member).where(Member.program_id == program_id)
    text = text.strip()
    if text:
        query = query.where(
            or_(
                Member.external_id.icontains(text, autoescape=True),
                Member.email.icontains(text, autoescape=True),
                Member.name.icontains(text, autoescape=True),
            )
        ).order_by(case((Member.external_id == text, 0), else_=1), Member.name, Member.id)
    else:
        query = query.order_by(Member.enrolled_at.desc(), Member.id.desc())
    return session.execute(query.limit(limit)).scalars().all()


def id_range(session: Session, program_id: int) -> tuple[int, int] | None:
    """The lowest and the highest id of the program's members; ``None`` when it has none."""
    low, high = session.execute(
        select(func.min(Member.id), func.max(Member.id)).where(Member.program_id == program_id)
    ).one()
    return None if low is None else (int(low), int(high))


def by_tier(session: Session, program_id: int) -> dict[str | None, int]:
    """How many of the program's members hold each tier (``None``: no tier)."""
    query = select(Member.tier_code, func.count()).where(Member.program_id == program_id).group_by(Member.tier_code)
    return {code: int(count) for code, count in session.execute(query).all()}


def count_enrolled(session: Session, program_id: int, start: datetime, end: datetime) -> int:
    """How many of the program's members enrolled in ``[start, end)``."""
    query = select(func.count()).where(
        Member.program_id == program_id, Member.enrolled_at >= start, Member.enrolled_at < end
    )
    return int(session.execute(query).scalar_one())


def count_enrolled_by_span(session: Session, program_id: int, spans: Sequence[Span]) -> list[int]:
    """``count_enrolled`` for each of consecutive ``spans``, in one query."""
    inner = (
        select(span_of(Member.enrolled_at, spans).label("span"))
        .where(
            Member.program_id == program_id,
            Member.enrolled_at >= spans[0].start,
            Member.enrolled_at < spans[-1].end,
        )
        .subquery()
    )
    rows = session.execute(select(inner.c.span, func.count()).group_by(inner.c.span)).all()
    found = {row[0]: int(row[1]) for row in rows}
    return [found.get(index, 0) for index in range(len(spans))]


def born_on(session: Session, program_id: int, days: Sequence[tuple[int, int]]) -> list[tuple[int, date]]:
    """(id, birth date) of the program's active members born on any of ``days`` (month, day)."""
    month, day = func.extract("month", Member.birth_date), func.extract("day", Member.birth_date)
    matches = [(month == m) & (day == d) for m, d in days]
    query = select(Member.id, Member.birth_date).where(
        Member.program_id == program_id, Member.status == ACTIVE, Member.birth_date.is_not(None), or_(*matches)
    )
    return [
        (int(member_id), born) for member_id, born in session.execute(query.order_by(Member.id)) if born is not None
    ]


Within = Sequence[tuple[Any, Any]]
"""Ranges of a column, each from its first value to its last (birth dates, inclusive) or to its end (enrolment
moments, ``[start, end)``)."""


def _celebrants(program_id: int, born: Within, enrolled: Within, unless: Callable[[Any], Any]) -> Any:
    """The conditions of ``claim_celebrants``; ``None`` when no range is given (no member can match)."""
    ranges = [Member.birth_date.between(first, last) for first, last in born] + [
        (Member.enrolled_at >= start) & (Member.enrolled_at < end) for start, end in enrolled
    ]
    if not ranges:
        return None
    return (Member.program_id == program_id) & (Member.status == ACTIVE) & or_(*ranges) & ~unless(Member.id)


def claim_celebrants(
    session: Session,
    program_id: int,
    *,
    born: Within = (),
    enrolled: Within = (),
    unless: Callable[[Any], Any],
    after_id: int,
    limit: int,
) -> Sequence[Member]:
    """Up to ``limit`` of the program's active members, by id after ``after_id``, born in one of the ``born`` ranges
    or enrolled in one of ``enrolled``, for whom ``unless(Member.id)`` (a condition of another feature's rows) is not
    true; locked like every member lock and reloaded, skipping members another transaction holds (a job's claim: it
    never waits on a request; ``celebrant_ids`` names those it skipped)."""
    where = _celebrants(program_id, born, enrolled, unless)
    if where is None:
        return []
    query = (
        select(Member)
        .where(where, Member.id > after_id)
        .order_by(Member.id)
        .limit(limit)
        .with_for_update(key_share=True, skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return session.execute(query).scalars().all()


def celebrant_ids(
    session: Session,
    program_id: int,
    *,
    born: Within = (),
    enrolled: Within = (),
    unless: Callable[[Any], Any],
    after_id: int,
    up_to_id: int | None,
) -> list[int]:
    """The ids ``claim_celebrants`` would find from ``after_id`` to ``up_to_id``, locked or not."""
    where = _celebrants(program_id, born, enrolled, unless)
    if where is None:
        return []
    query = select(Member.id).where(where, Member.id > after_id)
    if up_to_id is not None:
        query = query.where(Member.id <= up_to_id)
    return [int(member_id) for member_id in session.execute(query.order_by(Member.id)).scalars()]


def earliest(session: Session, program_id: int) -> tuple[date | None, datetime | None]:
    """The program's earliest birth date and enrolment (``None``: no member has one); each read from its index."""
    born = select(func.min(Member.birth_date)).where(Member.program_id == program_id).scalar_subquery()
    enrolled = select(func.min(Member.enrolled_at)).where(Member.program_id == program_id).scalar_subquery()
    first_born, first_enrolled = session.execute(select(born, enrolled)).one()
    return first_born, first_enrolled


def claim_inactive(
    session: Session, program_id: int, since: datetime, active: Sequence[Activity], limit: int
) -> Sequence[Member]:
    """Up to ``limit`` of the program's members, not erased, enrolled before ``since`` and with none of ``active``
    (other features' rows, on ``Member.id``) since then; locked like every member lock and reloaded, skipping those
    another transaction holds (a job's claim: the next run finds them)."""
    query = (
        select(Member)
        .where(
            Member.program_id == program_id,
            Member.status != ERASED,
            Member.enrolled_at < since,
            *[~activity(Member.id, since) for activity in active],
        )
        .order_by(Member.id)
        .limit(limit)
        .with_for_update(key_share=True, skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return session.execute(query).scalars().all()


def external_ids_starting(session: Session, program_id: int, prefix: str) -> list[str]:
    """The external ids of the program's members that start with ``prefix`` (a shop platform's customers)."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return list(
        session.execute(
            select(Member.external_id)
            .where(Member.program_id == program_id, Member.external_id.like(f"{escaped}%", escape="\\"))
            .order_by(Member.id)
        ).scalars()
    )
