"""Coalitions of brands: which programs form one, moving points between a member's accounts at two of them, and paying
a partner brand's reward with them; with what other features use of the links (``links``) and the settlement
(``settlement``). Nothing here commits.

Every movement locks both members in id order (the one lock order, so two movements between the same accounts in
opposite directions cannot deadlock), settles both, spends the sender's points (soonest-expiring first) and opens a
lot of the receiver's, each side a balanced transfer in its own program's ledger against ``program:coalition``, and
records the movement: the settlement entry saying what the sender owes the receiver. All of it or nothing, exactly once
per ``Idempotency-Key``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from punchcard.coalition import repository
from punchcard.coalition.domain import (
    RECEIVED,
    SENT,
    Brand,
    Coalition,
    CoalitionRefused,
    Exchange,
    PointsReceived,
    PointsSent,
    covering,
    form,
    sending,
)
from punchcard.coalition.errors import CoalitionNotFound, NotCoalitionOwner, as_error
from punchcard.coalition.links import Account as Account
from punchcard.coalition.links import accounts as accounts
from punchcard.coalition.links import link as link
from punchcard.coalition.links import linked_account
from punchcard.coalition.links import person_of as person_of
from punchcard.coalition.links import unlink as unlink
from punchcard.coalition.models import CoalitionMovement
from punchcard.coalition.settlement import Movement as Movement
from punchcard.coalition.settlement import Settlement as Settlement
from punchcard.coalition.settlement import money as money
from punchcard.coalition.settlement import movements as movements
from punchcard.coalition.settlement import settlement as settlement
from punchcard.coalition.settlement import settlement_body as settlement_body
from punchcard.kit.errors import IdempotencyConflict
from punchcard.ledger import service as ledger
from punchcard.ledger.account import open_account
from punchcard.ledger.domain import EntryKind
from punchcard.ledger.posting import Posting
from punchcard.member import service as members
from punchcard.member.service import Member
from punchcard.outbox import service as outbox
from punchcard.program import service as programs
from punchcard.program.domain import CoalitionMembership, ProgramVersion

_T = TypeVar("_T")


@dataclass(frozen=True)
class Outcome:
    status: int
    body: dict[str, Any]


def _refused(action: Callable[[], _T]) -> _T:
    try:
        return action()
    except CoalitionRefused as refused:
        raise as_error(refused) from None


def coalition(session: Session, code: str) -> Coalition:
    """The coalition in force: founded by the oldest program whose file owns ``code`` (a later claim to it is
    ignored), with the partners it admits that name it too."""
    joined = programs.in_coalition(session, code)
    founders = [(row, version) for row, version in joined if _membership(version).founding is not None]
    if not founders:
        raise CoalitionNotFound(f"no coalition {code!r}", [{"coalition": code}])
    owner_row, owner_version = founders[0]
    founding = _membership(owner_version).founding
    assert founding is not None
    brands = [
        (Brand(row.id, row.slug, row.name, _membership(version).points_per_unit), _membership(version))
        for row, version in joined
    ]
    owner = next(brand for brand, _ in brands if brand.program_id == owner_row.id)
    return form(code, owner_version.program.currency, owner, founding, brands)


def _membership(version: ProgramVersion) -> CoalitionMembership:
    found = version.program.coalition
    assert found is not None  # ``programs.in_coalition`` finds programs whose version in force names one
    return found


def of_program(session: Session, version: ProgramVersion) -> Coalition | None:
    """The coalition the program is in; ``None`` when it names none, or names one that does not (yet) admit it."""
    named = version.program.coalition
    if named is None:
        return None
    try:
        found = coalition(session, named.code)
    except CoalitionNotFound:
        return None
    return found if any(brand.program_id == version.program_id for brand in found.brands) else None


def require_owner(found: Coalition, program_id: int) -> None:
    """Only the owner reads the settlement; to a program outside the coalition it does not exist."""
    if all(brand.program_id != program_id for brand in found.brands):
        raise CoalitionNotFound(f"no coalition {found.code!r}", [{"coalition": found.code}])
    if found.owner.program_id != program_id:
        raise NotCoalitionOwner(f"only the owner of the coalition {found.code!r} reads its settlement")


def _replayed(session: Session, found: Coalition, sender_id: int, key: str, digest: str) -> Outcome | None:
    row = repository.movement_by_key(session, found.code, sender_id, key)
    if row is None:
        return None
    if row.request_hash != digest:
        raise IdempotencyConflict("this Idempotency-Key was already used with a different request")
    return Outcome(200, dict(row.response or {}))


@dataclass(frozen=True)
class Side:
    """One end of a movement: the brand, its program version in force, the member's account there."""

    brand: Brand
    version: ProgramVersion
    member: Member


def _move(
    session: Session,
    found: Coalition,
    sender: Side,
    receiver: Side,
    exchange: Exchange,
    *,
    reason: str,
    key: str,
    digest: str,
    now: datetime,
) -> CoalitionMovement:
    """Spend ``exchange.sent`` of the sender's points and credit ``exchange.received`` to the receiver, each side a
    balanced transfer in its own program, and record what the sender owes. Both members are locked already."""
    for side in (sender, receiver):
        members.check_active(side.member)
    row = repository.add_movement(
        session,
        coalition=found.code,
        sender_program_id=sender.brand.program_id,
        sender_member_id=sender.member.id,
        receiver_program_id=receiver.brand.program_id,
        receiver_member_id=receiver.member.id,
        units=exchange.units,
        points_sent=exchange.sent,
        points_received=exchange.received,
        value_minor=exchange.value_minor,
        currency=found.currency,
        reason=reason,
        idempotency_key=key,
        request_hash=digest,
        response=None,
        occurred_at=now,
    )
    operation = f"coalition:{row.id}"
    spending = open_account(
        session,
        Posting(sender.brand.program_id, sender.member.id, sender.version.version, now, now, operation=operation),
        is_locked=True,
    )
    spending.spend(exchange.sent, kind=EntryKind.EXCHANGE, description=f"{SENT}{receiver.brand.name}"[:500])
    receiving = open_account(
        session,
        Posting(receiver.brand.program_id, receiver.member.id, receiver.version.version, now, now, operation=operation),
        is_locked=True,
    )
    program = receiver.version.program
    receiving.credit(
        [ledger.Credit(exchange.received, f"{RECEIVED}{sender.brand.name}"[:500])],
        kind=EntryKind.EXCHANGE,
        policy=program.points,
        zone=program.zone,
        allow_pending=False,
    )
    receiving.flush()
    facts: dict[str, Any] = {
        "coalition": found.code,
        "movement_id": row.id,
        "units": exchange.units,
        "value_minor": exchange.value_minor,
        "currency": found.currency,
        "reason": reason,
    }
    outbox.publish(
        session,
        [
            PointsSent(
                program_id=sender.brand.program_id,
                member_id=sender.member.id,
                occurred_at=now,
                to_brand=receiver.brand.slug,
                points=exchange.sent,
                **facts,
            ),
            PointsReceived(
                program_id=receiver.brand.program_id,
                member_id=receiver.member.id,
                occurred_at=now,
                from_brand=sender.brand.slug,
                points=exchange.received,
                **facts,
            ),
        ],
        now,
    )
    return row


def _lock_both(session: Session, first: Member, second: Member) -> None:
    for member_id in sorted((first.id, second.id)):
        members.lock_id(session, member_id)


def _side(session: Session, brand: Brand, member: Member) -> Side:
    return Side(brand, programs.current(session, brand.program_id), member)


def _movement_body(found: Coalition, row: CoalitionMovement, sender: Side, receiver: Side) -> dict[str, Any]:
    return {
        "movement_id": row.id,
        "coalition": found.code,
        "from": {"brand": sender.brand.slug, "points": row.points_sent},
        "to": {"brand": receiver.brand.slug, "points": row.points_received},
        "units": row.units,
        "value": money(row.value_minor, row.currency),
        "currency": row.currency,
    }


def transfer(
    session: Session,
    found: Coalition,
    member: Member,
    to_brand: str,
    points: int,
    *,
    key: str,
    digest: str,
    now: datetime,
) -> Outcome:
    """Move at most ``points`` of the member's at their own brand to their linked account at ``to_brand``: the whole
    coalition units they make (what is left over stays)."""
    sender_brand = _refused(lambda: found.brand_of(member.program_id))
    receiver_brand = _refused(lambda: found.brand(to_brand))
    exchange = _refused(lambda: sending(found, sender_brand, receiver_brand, points))
    if (replay := _replayed(session, found, member.id, key, digest)) is not None:
        return replay
    partner = linked_account(session, found, member, receiver_brand)
    _lock_both(session, member, partner)
    if (replay := _replayed(session, found, member.id, key, digest)) is not None:
        return replay
    sender, receiver = _side(session, sender_brand, member), _side(session, receiver_brand, partner)
    row = _move(session, found, sender, receiver, exchange, reason="transfer", key=key, digest=digest, now=now)
    row.response = _movement_body(found, row, sender, receiver)
    session.flush()
    return Outcome(201, row.response)


def pay_reward(
    session: Session,
    found: Coalition,
    member: Member,
    from_brand: str,
    cost: int,
    redeem: Callable[[], dict[str, Any]],
    *,
    key: str,
    digest: str,
    now: datetime,
) -> Outcome:
    """Pay a reward of the member's brand that costs ``cost`` points with their points at ``from_brand``: the whole
    units that cover it move first, then ``redeem`` (the reward feature's redemption, under the same key) spends
    them; what the units bring over the cost stays on the member's account. If ``redeem`` refuses, the caller's
    transaction undoes the movement with it."""
    receiver_brand = _refused(lambda: found.brand_of(member.program_id))
    sender_brand = _refused(lambda: found.brand(from_brand))
    exchange = _refused(lambda: covering(found, sender_brand, receiver_brand, cost))
    partner = linked_account(session, found, member, sender_brand)
    if (replay := _replayed(session, found, partner.id, key, digest)) is not None:
        return replay
    _lock_both(session, member, partner)
    if (replay := _replayed(session, found, partner.id, key, digest)) is not None:
        return replay
    sender, receiver = _side(session, sender_brand, partner), _side(session, receiver_brand, member)
    row = _move(session, found, sender, receiver, exchange, reason="reward", key=key, digest=digest, now=now)
    redeemed = redeem()
    row.response = {**redeemed, "paid_with": _movement_body(found, row, sender, receiver)}
    session.flush()
    return Outcome(201, row.response)
