"""Referral use cases: a member's code, a friend joining with it, the friend's qualifying purchase, a full refund of
it, and staff review of held referrals. Paying outside the friend's events is ``referral.payouts``.

Lock order: members first, then the referral's row (the event path locks the friend, then their referral; the
payouts lock the friend and the referrer, then the referral), so a payout and an event cannot wait on each other in a
circle. The friend's side is paid in their own event when the referral pays at once (their points are in the
event's answer); the referrer's side always outside it (``payouts.pay``: the referral's consumer at once, or the
scheduled jobs when the points vest), since another member's lock inside an event would break the event path's lock
order.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select
from sqlalchemy.orm import Session

from punchcard.kit.events import DomainEvent
from punchcard.member import service as members
from punchcard.member.domain import shown_name
from punchcard.member.service import Member
from punchcard.outbox import service as outbox
from punchcard.referral import repository
from punchcard.referral.checks import (
    SIGNUP_HOURS,
    SOURCES,
    VELOCITY_DAYS,
    Flag,
    Joining,
    signals_of,
)
from punchcard.referral.domain import (
    ReferralMade,
    ReferralQualified,
    ReferralReversed,
    ReferralReviewed,
    ReferralRewarded,
    Referrals,
    Role,
    Status,
    share_url,
)
from punchcard.referral.errors import ReferralCodeNotFound, ReferralNotFound, ReferralNotHeld
from punchcard.referral.models import Referral as Referral  # rows cross the boundary as values for the pages

_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
"""As coupon codes: no 0/O or 1/I/L, since codes are read aloud and typed from screenshots."""
CODE_LENGTH = 8
REWARD_RULE = "referral"
"""The rule code of referral points in the ledger."""


def _new_code() -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(CODE_LENGTH))


def code_for(session: Session, program_id: int, member_id: int, now: datetime) -> str:
    """The member's referral code, made on first asking (a random code; a clash with another member's is drawn
    again, a concurrent first asking for the same member gives way to the one that wrote first)."""
    found = repository.code_of(session, member_id)
    while found is None:
        code = _new_code()
        if repository.code_taken(session, program_id, code):
            continue
        if repository.insert_code(session, program_id, member_id, code, now):
            return code
        found = repository.code_of(session, member_id)
    return found


def referrer_of(session: Session, program_id: int, code: str) -> Member:
    """The active member whose code this is (codes are matched without case or spaces)."""
    member_id = repository.owner_of(session, program_id, code.strip().upper())
    member = members.by_id(session, program_id, member_id) if member_id is not None else None
    if member is None or member.status != members.ACTIVE:
        raise ReferralCodeNotFound(f"no member of this program has the referral code {code!r}", [{"code": code}])
    return member


# --- a friend joins -----------------------------------------------------------------------------------------------


def joining(
    session: Session, program_id: int, referrer: Member, referee: Member, signals: Mapping[str, str], now: datetime
) -> Joining:
    """What the checks need to know about a friend joining with ``referrer``'s code."""
    sources = [value for kind, value in signals.items() if kind in SOURCES]
    identity = {kind: value for kind, value in signals.items() if kind in ("email", "phone")}
    return Joining(
        referrer_external_id=referrer.external_id,
        referee_external_id=referee.external_id,
        referrer_signals=repository.signals(session, referrer.id) | set(signals_of(referrer.email, {}).items()),
        referee_signals=signals,
        referrals_this_week=repository.made_since(session, referrer.id, now - timedelta(days=VELOCITY_DAYS)),
        signups_from_source=repository.signups_from(session, program_id, sources, now - timedelta(hours=SIGNUP_HOURS)),
        known_person=repository.others_with(session, program_id, (referrer.id, referee.id), identity),
        orders_before=0,
    )


def join(
    session: Session,
    program_id: int,
    referrer: Member,
    referee: Member,
    *,
    code: str,
    status: Status,
    flags: Sequence[Flag],
    signals: Mapping[str, str],
    now: datetime,
) -> tuple[Referral, ReferralMade]:
    """Record that ``referee`` joined with ``referrer``'s code, with what the checks found."""
    repository.record_signals(session, program_id, referee.id, signals, now)
    referral = repository.add(
        session,
        program_id=program_id,
        referrer_id=referrer.id,
        referee_id=referee.id,
        code=code,
        status=status.value,
        flags=[flag.as_json() for flag in flags],
        created_at=now,
    )
    made = ReferralMade(
        program_id=program_id,
        member_id=referee.id,
        occurred_at=now,
        referral_id=referral.id,
        referrer_id=referrer.id,
        status=status.value,
        flags=tuple(flag.as_json() for flag in flags),
    )
    return referral, made


# --- the friend's purchases ---------------------------------------------------------------------------------------


def open_referral(session: Session, referee_id: int) -> Referral | None:
    """The friend's referral while a purchase may still qualify it (pending, or held before qualifying), locked."""
    referral = repository.of_referee(session, referee_id, lock=True)
    if referral is None or referral.qualified_at is not None:
        return None
    return referral if referral.status in (Status.PENDING.value, Status.HELD.value) else None


def signals_of_member(session: Session, member_id: int) -> set[tuple[str, str]]:
    return repository.signals(session, member_id)


def record_signals(session: Session, program_id: int, member_id: int, found: Mapping[str, str], now: datetime) -> None:
    """Remember what identifies a member (digests), for the checks of the referrals they make or get later."""
    repository.record_signals(session, program_id, member_id, found, now)


def qualify(
    referral: Referral,
    *,
    status: Status,
    flags: Sequence[Flag],
    order_id: str | None,
    order_total_minor: int | None,
    payable_at: datetime,
    now: datetime,
) -> ReferralQualified:
    """The friend's qualifying event happened: ``status`` is ``qualified``, or what a check decided (``held``,
    ``rejected``); a referral already held stays held."""
    referral.qualified_at = now
    referral.order_id = order_id
    referral.order_total_minor = order_total_minor
    referral.payable_at = payable_at
    referral.flags = [*referral.flags, *(flag.as_json() for flag in flags)]
    if referral.status != Status.HELD.value:
        referral.status = status.value
    return ReferralQualified(
        program_id=referral.program_id,
        member_id=referral.referee_id,
        occurred_at=now,
        referral_id=referral.id,
        referrer_id=referral.referrer_id,
        order_id=order_id,
        payable_at=payable_at,
        held=referral.status == Status.HELD.value,
        flags=tuple(flag.as_json() for flag in flags),
    )


def referee_paid(
    referral: Referral, points: int, lot_id: int | None, coupon: str | None, now: datetime
) -> ReferralRewarded:
    """Record the friend's reward, given in their own event (``mechanics.referrals``)."""
    referral.referee_paid_at, referral.referee_points = now, points
    referral.referee_lot_id, referral.referee_coupon = lot_id, coupon
    return rewarded(referral, Role.REFEREE, referral.referee_id, points, coupon, now)


def rewarded(
    referral: Referral, role: Role, member_id: int, points: int, coupon: str | None, now: datetime, capped: bool = False
) -> ReferralRewarded:
    return ReferralRewarded(
        program_id=referral.program_id,
        member_id=member_id,
        occurred_at=now,
        referral_id=referral.id,
        role=role.value,
        points=points,
        coupon=coupon,
        capped=capped,
    )


def of_order(session: Session, referee_id: int, order_id: str) -> Referral | None:
    """The referral ``order_id`` qualified, locked (a refund of it may take the referral back)."""
    return repository.by_order(session, referee_id, order_id, lock=True)


def reversed_by_refund(referral: Referral, now: datetime) -> ReferralReversed | None:
    """The qualifying order was refunded in full: before the referral paid, it waits for another qualifying
    purchase (``None``: nothing was given); after, it is ``reversed`` and both sides' rewards are taken back (the
    friend's by the refund's event, the referrer's by ``take_back_referrer``)."""
    order_id = referral.order_id
    assert order_id is not None
    if referral.referee_paid_at is None and referral.referrer_paid_at is None:
        referral.status = Status.PENDING.value if referral.status == Status.QUALIFIED.value else referral.status
        referral.qualified_at = referral.order_id = referral.order_total_minor = referral.payable_at = None
        return None
    referral.status, referral.reversed_at = Status.REVERSED.value, now
    return ReferralReversed(
        program_id=referral.program_id,
        member_id=referral.referee_id,
        occurred_at=now,
        referral_id=referral.id,
        referrer_id=referral.referrer_id,
        order_id=order_id,
    )


def lock_pair(session: Session, program_id: int, referral_id: int) -> Referral | None:
    """Lock the referral's two members (lowest id first), then the referral's row, read again after the locks."""
    found = repository.by_id(session, program_id, referral_id)
    if found is None:
        return None
    for member_id in sorted((found.referee_id, found.referrer_id)):
        members.lock_id(session, member_id)
    return repository.by_id(session, program_id, referral_id, lock=True)


# --- review -------------------------------------------------------------------------------------------------------


def review(
    session: Session,
    program_id: int,
    referral_id: int,
    *,
    approve: bool,
    reason: str,
    staff: str,
    now: datetime,
) -> tuple[Referral, list[DomainEvent]]:
    """Staff decide on a held referral: approved, it goes on (qualified if its friend already qualified, paid then
    as any other; pending otherwise); rejected, it pays nothing, ever. The decision and its reason are kept."""
    found = repository.by_id(session, program_id, referral_id)
    if found is None:
        raise ReferralNotFound(f"no referral {referral_id}", [{"referral": referral_id}])
    referral = lock_pair(session, program_id, referral_id)
    assert referral is not None
    if referral.status != Status.HELD.value:
        raise ReferralNotHeld(
            f"referral {referral_id} is {referral.status}, not held for review", [{"status": referral.status}]
        )
    if approve:
        referral.status = (Status.QUALIFIED if referral.qualified_at is not None else Status.PENDING).value
    else:
        referral.status = Status.REJECTED.value
    referral.reviewed_at, referral.reviewed_by, referral.review_reason = now, staff, reason
    reviewed = ReferralReviewed(
        program_id=program_id,
        member_id=referral.referee_id,
        occurred_at=now,
        referral_id=referral.id,
        referrer_id=referral.referrer_id,
        decision="approved" if approve else "rejected",
        reason=reason,
        staff=staff,
    )
    session.flush()
    outbox.publish(session, [reviewed], now)
    return referral, [reviewed]


def held(session: Session, program_id: int, limit: int = 200) -> Sequence[Referral]:
    """The review queue: held referrals, oldest first."""
    return repository.with_status(session, program_id, Status.HELD, limit)


# --- reading ------------------------------------------------------------------------------------------------------


def find(session: Session, program_id: int, referral_id: int) -> Referral | None:
    """One of the program's referrals as it stands (not locked)."""
    return repository.by_id(session, program_id, referral_id)


def latest(session: Session, program_id: int, limit: int = 50) -> Sequence[Referral]:
    """The program's latest referrals, newest first, whatever became of them."""
    return repository.latest(session, program_id, limit)


def decided(session: Session, program_id: int, limit: int = 20) -> Sequence[Referral]:
    """The referrals staff approved or rejected (``review``), the latest decision first."""
    return repository.reviewed(session, program_id, limit)


def of_referrer(session: Session, referrer_id: int) -> Sequence[Referral]:
    return repository.of_referrer(session, referrer_id)


def invitation_url(public_url: str, slug: str, code: str) -> str:
    """The portal's invitation page for a code (the link members share unless the program names the shop's)."""
    return f"{public_url.rstrip('/')}/portal/{slug}/join?ref={code}"


@dataclass(frozen=True)
class Friend:
    """A friend a member brought, as the member sees them."""

    name: str | None
    """First name and initial (``member.domain.shown_name``)."""
    status: str
    joined_at: datetime
    qualified_at: datetime | None
    points: int
    """What the member earned for this friend (0 once a refund took it back)."""


@dataclass(frozen=True)
class Sharing:
    """A member's referral as they see it: the code, the link to share, the friends they brought, what they earned."""

    code: str
    url: str
    friends: list[Friend]
    earned: int


def sharing(
    session: Session, program_id: int, slug: str, rule: Referrals, member: Member, public_url: str, now: datetime
) -> Sharing:
    """The member's code (made on first asking) and share link, the friends they brought with each referral's
    status, and the points they earned by referring: what the API and the portal show alike."""
    code = code_for(session, program_id, member.id, now)
    url = share_url(rule, code, invitation_url(public_url, slug, code))
    referred = of_referrer(session, member.id)
    people = members.by_ids(session, [referral.referee_id for referral in referred])
    friends = [
        Friend(
            name=shown_name(people[referral.referee_id].name),
            status=referral.status,
            joined_at=referral.created_at,
            qualified_at=referral.qualified_at,
            points=referral.referrer_points if referral.referrer_reversed_at is None else 0,
        )
        for referral in referred
    ]
    return Sharing(code, url, friends, sum(friend.points for friend in friends))


def of_referee(session: Session, referee_id: int) -> Referral | None:
    return repository.of_referee(session, referee_id)


def referees(program_id: int) -> Select[int]:
    """The program's referred members, as a subquery (the revenue of referred members is the analytics')."""
    return repository.referees(program_id)


def counts(session: Session, program_id: int, since: datetime, until: datetime) -> dict[str, Any]:
    """The referral funnel in ``[since, until)``: codes made, sign-ups, flagged, qualified, paid, rejected, reversed."""
    return {"codes": repository.codes_made(session, program_id, since, until)} | repository.counts(
        session, program_id, since, until
    )
