"""What the tables say about one program's referrals, for the referral tests: the referral rows, the referral points
in the ledger, and the events told to the outbox. Plain functions, no fixtures."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from punchcard.ledger.domain import Account, EntryKind
from punchcard.ledger.models import LedgerEntry
from punchcard.ledger.verify import verify
from punchcard.member.models import Member
from punchcard.outbox.models import OutboxEvent
from punchcard.referral.models import Referral
from tests.factories import ApiClient

POINTS = (Account.POINTS.value, Account.PENDING_POINTS.value)


@dataclass(frozen=True)
class Row:
    """A referral as stored (the columns the tests read)."""

    id: int
    status: str
    order_id: str | None
    payable_at: datetime | None
    referee_paid_at: datetime | None
    referee_points: int
    referrer_paid_at: datetime | None
    referrer_points: int
    referrer_capped: bool
    reversed_at: datetime | None
    referrer_reversed_at: datetime | None


def member_id(engine: Engine, api: ApiClient, external_id: str) -> int:
    with Session(engine) as session:
        query = select(Member.id).where(Member.program_id == api.program_id, Member.external_id == external_id)
        return int(session.execute(query).scalar_one())


def referral_of(engine: Engine, api: ApiClient, referee: str) -> Row:
    """The referral of the friend ``referee`` (a member is referred at most once)."""
    with Session(engine) as session:
        found = session.execute(
            select(Referral).where(Referral.referee_id == member_id(engine, api, referee))
        ).scalar_one()
        return Row(**{name: getattr(found, name) for name in Row.__dataclass_fields__})


def referral_earnings(engine: Engine, member: int) -> list[int]:
    """The member's referral rewards in the ledger: the amounts of their ``earn`` legs of rule ``referral``."""
    with Session(engine) as session:
        query = select(LedgerEntry.amount).where(
            LedgerEntry.member_id == member,
            LedgerEntry.account.in_(POINTS),
            LedgerEntry.kind == EntryKind.EARN.value,
            LedgerEntry.rule_code == "referral",
        )
        return sorted(session.execute(query.order_by(LedgerEntry.id)).scalars())


def taken_back(engine: Engine, member: int) -> int:
    """Every point refunds and revocations took from the member (their ``reverse`` legs), as a positive number."""
    with Session(engine) as session:
        query = select(LedgerEntry.amount).where(
            LedgerEntry.member_id == member,
            LedgerEntry.account.in_(POINTS),
            LedgerEntry.kind == EntryKind.REVERSE.value,
        )
        return -sum(session.execute(query).scalars())


def told(engine: Engine, api: ApiClient, *types: str) -> list[tuple[str, int | None, dict[str, Any]]]:
    """The program's outbox events of ``types``, oldest first: (type, member id, payload)."""
    with Session(engine) as session:
        query = (
            select(OutboxEvent.type, OutboxEvent.member_id, OutboxEvent.payload)
            .where(OutboxEvent.program_id == api.program_id, OutboxEvent.type.in_(types))
            .order_by(OutboxEvent.id)
        )
        return [(kind, member, dict(payload)) for kind, member, payload in session.execute(query)]


def rewarded_sides(engine: Engine, api: ApiClient) -> Counter[tuple[int, str]]:
    """How often each side of each referral was told rewarded: (referral id, role) → count."""
    return Counter(
        (int(payload["referral_id"]), str(payload["role"])) for _, _, payload in told(engine, api, "referral.rewarded")
    )


def revocations(engine: Engine, api: ApiClient) -> list[tuple[str, int, int]]:
    """The referral rewards taken back: (granted operation, points taken, points the return policy forgave)."""
    return sorted(
        (str(payload["granted"]), int(payload["points"]), int(payload["not_taken_back"]))
        for _, _, payload in told(engine, api, "points.revoked")
        if payload["cause"] == "referral"
    )


def problems(engine: Engine, api: ApiClient) -> list[str]:
    """What ``punchcard ledger verify`` finds wrong in the program (transfers that do not balance, lots or account
    rows that differ from their entries)."""
    with Session(engine) as session:
        return [str(problem) for problem in verify(session, api.program_id).problems]
