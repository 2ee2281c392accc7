"""Finding and locking members. Every balance-changing operation starts with ``lock``: one writer per member."""

from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session

from punchcard.member.errors import MemberNotFound
from punchcard.member.models import Member

_BY_EXTERNAL_ID = select(Member).where(
    Member.program_id == bindparam("program_id"), Member.external_id == bindparam("external_id")
)
# Every lock on a member row is FOR NO KEY UPDATE (``key_share=True``), never FOR UPDATE (docs/decisions.md,
# Performance 18): it excludes every other member lock, so operations on one member still queue, but not the FOR KEY
# SHARE that a foreign key check takes on the row. A job inserting an entry for a lot it claimed must not wait for the
# request that holds the lot's member while that request waits for the lot: that cycle was a deadlock.
_BY_EXTERNAL_ID_LOCKED = _BY_EXTERNAL_ID.with_for_update(key_share=True).execution_options(populate_existing=True)
"""Built once: the API reads a member on almost every request (docs/performance.md, finding 14)."""


def find(session: Session, program_id: int, external_id: str, *, lock: bool = False) -> Member | None:
    query = _BY_EXTERNAL_ID_LOCKED if lock else _BY_EXTERNAL_ID
    return session.execute(query, {"program_id": program_id, "external_id": external_id}).scalar_one_or_none()


def get(session: Session, program_id: int, external_id: str, *, lock: bool = False) -> Member:
    member = find(session, program_id, external_id, lock=lock)
    if member is None:
        raise MemberNotFound(f"no member with external_id {external_id!r}", [{"external_id": external_id}])
    return member


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
