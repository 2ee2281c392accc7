"""Giving points to a cause: a donation spends the member's points (soonest-expiring first, under their row lock),
values them for the cause, draws the shop's matching from the period's budget (its row locked after the member's:
the one lock order), and publishes ``cause.donated``; exactly once per ``Idempotency-Key``. Standing gifts give
just after an earning (``mechanics.standing_gifts``, an outbox consumer). Nothing here commits.

A donated point never comes back: a refund of the order that earned it takes back what is left, and what is not
left becomes debt as the program's return policy says (``ledger.account.MemberAccount.reverse``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from punchcard.cause import repository
from punchcard.cause.domain import (
    DONATED,
    Cause,
    CauseDonated,
    CauseRefused,
    GiftKind,
    StandingGift,
    Terms,
    Totals,
    open_cause,
)
from punchcard.cause.errors import as_error
from punchcard.kit.errors import IdempotencyConflict
from punchcard.kit.money import format_amount, from_minor
from punchcard.ledger.account import open_account
from punchcard.ledger.domain import EntryKind
from punchcard.ledger.posting import Posting
from punchcard.member import service as members
from punchcard.member.service import Member
from punchcard.outbox import service as outbox


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]


class Spending(Protocol):
    """What a donation spends points through: the member's account, locked and settled (``MemberAccount``)."""

    def spend(self, points: int, *, kind: EntryKind, description: str) -> int: ...


def money(minor: int, currency: str) -> str:
    return format_amount(from_minor(minor, currency), currency)


def _cause(terms: Terms, code: str, now: datetime) -> Cause:
    try:
        return open_cause(terms.causes, code, now, terms.zone)
    except CauseRefused as refused:
        raise as_error(refused) from None


def give(
    session: Session,
    terms: Terms,
    account: Spending,
    member_id: int,
    cause: Cause,
    points: int,
    *,
    source: str,
    key: str | None,
    digest: str | None,
    now: datetime,
) -> tuple[CauseDonated, int]:
    """Spend ``points`` of the member's (their account already locked and settled), value them, match them; the event
    and the donation row's id. Raises ``InsufficientPoints`` when the member has fewer available."""
    account.spend(points, kind=EntryKind.DONATE, description=f"{DONATED}{cause.name.default}"[:500])
    value = cause.worth(points, terms.currency)
    matched = 0
    period = "all"
    if cause.matching is not None:
        period = cause.matching.period_key(now, terms.zone)
        budget = repository.locked_budget(session, terms.program_id, cause.code, period)
        matched = cause.matching.matched(value, budget.used_minor)
        budget.used_minor += matched
    row = repository.add(
        session,
        program_id=terms.program_id,
        member_id=member_id,
        cause=cause.code,
        points=points,
        value_minor=value,
        matched_minor=matched,
        currency=terms.currency,
        period_key=period,
        source=source,
        idempotency_key=key,
        request_hash=digest,
        response=None,
        donated_at=now,
    )
    event = CauseDonated(
        program_id=terms.program_id,
        member_id=member_id,
        occurred_at=now,
        cause=cause.code,
        points=points,
        value_minor=value,
        matched_minor=matched,
        currency=terms.currency,
        source=source,
    )
    return event, row.id


def _replayed(session: Session, terms: Terms, member_id: int, key: str, digest: str) -> Outcome | None:
    found = repository.by_key(session, terms.program_id, member_id, key)
    if found is None:
        return None
    if found.request_hash != digest:
        raise IdempotencyConflict("this Idempotency-Key was already used with a different request")
    return Outcome(200, dict(found.response or {}))


def donate(
    session: Session,
    terms: Terms,
    member: Member,
    code: str,
    points: int,
    *,
    key: str,
    digest: str,
    source: str,
    now: datetime,
) -> Outcome:
    """A member's donation of ``points`` to the cause ``code``, exactly once per ``key``."""
    if (found := _replayed(session, terms, member.id, key, digest)) is not None:
        return found
    members.check_active(member)
    cause = _cause(terms, code, now)
    posting = Posting(terms.program_id, member.id, terms.version, now, now, operation=f"donation:{cause.code}"[:64])
    account = open_account(session, posting)  # the member's lock; their points settled (expiry) first
    if (found := _replayed(session, terms, member.id, key, digest)) is not None:
        return found
    event, row_id = give(
        session, terms, account, member.id, cause, points, source=source, key=key, digest=digest, now=now
    )
    outbox.publish(session, [event], now)
    body = {
        "donation_id": row_id,
        "cause": cause.code,
        "points": points,
        "value": money(event.value_minor, terms.currency),
        "matched": money(event.matched_minor, terms.currency),
        "currency": terms.currency,
        "balance": account.balance().available,
    }
    repository.record_response(session, row_id, body)
    return Outcome(201, body)


def give_standing(
    session: Session, terms: Terms, member_id: int, gift: StandingGift, *, earned: int, key: str, now: datetime
) -> CauseDonated | None:
    """What the member's standing ``gift`` gives after they earned ``earned`` points (heard from the outbox, keyed by
    the event so a delivery made twice gives once): from the points available now, under the member's lock."""
    cause = next((cause for cause in terms.causes if cause.code == gift.cause), None)
    if cause is None or not cause.is_open(now, terms.zone):
        return None
    posting = Posting(terms.program_id, member_id, terms.version, now, now, operation=f"donation:{cause.code}"[:64])
    account = open_account(session, posting)
    if repository.by_key(session, terms.program_id, member_id, key) is not None:
        return None
    points = gift.points_to_give(earned, account.balance().available)
    if points <= 0:
        return None
    event, _ = give(session, terms, account, member_id, cause, points, source="standing", key=key, digest=None, now=now)
    outbox.publish(session, [event], now)
    return event


def standing_of(session: Session, member_ids: Collection[int]) -> dict[int, StandingGift]:
    """The standing gifts of those of ``member_ids`` who set one."""
    return {
        row.member_id: StandingGift(row.cause, GiftKind(row.kind), row.value, row.after_event)
        for row in repository.standing_of(session, member_ids)
    }


def standing(session: Session, member_id: int) -> StandingGift | None:
    row = repository.standing(session, member_id)
    return StandingGift(row.cause, GiftKind(row.kind), row.value) if row is not None else None


def set_standing(
    session: Session, terms: Terms, member: Member, gift: StandingGift | None, now: datetime
) -> StandingGift | None:
    """Set (or, with ``None``, stop) the member's standing gift; the cause must take donations now."""
    if gift is None:
        repository.clear_standing(session, member.id)
        return None
    _cause(terms, gift.cause, now)
    since = outbox.last_id(session)
    fields = {"cause": gift.cause, "kind": gift.kind.value, "value": gift.value, "after_event": since}
    repository.set_standing(session, terms.program_id, member.id, fields, now)
    return gift


def totals(session: Session, terms: Terms, since: datetime | None, until: datetime | None) -> dict[str, Totals]:
    """Every cause's totals in ``[since, until)`` (all time without bounds), causes without donations included."""
    found = repository.totals(session, terms.program_id, since, until)
    return {cause.code: Totals(*found.get(cause.code, (0, 0, 0, 0))) for cause in terms.causes}


def member_given(session: Session, member_id: int) -> dict[str, tuple[int, int]]:
    return repository.member_given(session, member_id)


def matching_now(session: Session, terms: Terms, cause: Cause, value_minor: int, now: datetime) -> int:
    """What the shop would add to a donation worth ``value_minor`` made at ``now``: its share, within what is left
    of the period's budget. A quote (the member's confirmation step): the budget is read, not locked, so another
    donation may use it up first; the donation itself draws on it under its lock (``give``)."""
    if cause.matching is None:
        return 0
    used = repository.budget_used(session, terms.program_id, cause.code, cause.matching.period_key(now, terms.zone))
    return cause.matching.matched(value_minor, used)


def settlement(
    session: Session, terms: Terms, code: str, since: datetime | None, until: datetime | None
) -> list[dict[str, Any]]:
    """The cause's donations in ``[since, until)``, one line each, for the settlement CSV the shop pays from."""
    return [
        {
            "donation_id": row.id,
            "donated_at": row.donated_at.isoformat(),
            "member_id": row.member_id,
            "points": row.points,
            "value": money(row.value_minor, row.currency),
            "matched": money(row.matched_minor, row.currency),
            "total": money(row.value_minor + row.matched_minor, row.currency),
            "currency": row.currency,
            "source": row.source,
        }
        for row in repository.of_cause(session, terms.program_id, code, since, until)
    ]


SETTLEMENT_COLUMNS = (
    "donation_id",
    "donated_at",
    "member_id",
    "points",
    "value",
    "matched",
    "total",
    "currency",
    "source",
)
"""The settlement CSV's columns, in order: the API's (``format=csv``) and the console's download are the same."""


def settlement_csv(lines: list[dict[str, Any]]) -> str:
    """The settlement (``settlement``'s lines) as CSV, one donation a row under a header row."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=SETTLEMENT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(lines)
    return out.getvalue()
