"""Giving the birthday and anniversary gifts due at a moment, for one program and occasion (``punchcard jobs run``).

The jobs walk the members whose occasion may be due (``due_rounds``, then ``give_batch`` batch by batch, each its own
transaction, and ``give_held`` for the members a request held meanwhile). Each member is locked first, as
everywhere; then the gift is recorded with ``INSERT ... ON CONFLICT DO NOTHING`` on (member, occasion, year) in the
transaction that grants it, so two runs at once, or a run again, give it once. Points are a grant
(``ledger.grants``, ``points.earned`` with cause ``birthday`` or ``anniversary``), a coupon a gift of a catalogue
reward (``reward.service.gift``, ``reward.gifted``), each once per operation ``<occasion>:<year>`` as well.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from punchcard.celebration import repository
from punchcard.celebration.domain import Celebrant, Gift, Occasion, Round, due, rounds, window
from punchcard.kit.calendar import start_of_local_day
from punchcard.ledger import grants
from punchcard.ledger.adjustments import Ledger
from punchcard.ledger.domain import Award
from punchcard.member import service as members
from punchcard.reward import service as rewards
from punchcard.reward.domain import Reward

DAY = timedelta(days=1)


@dataclass(frozen=True)
class Celebration:
    """One occasion of a program version, with what giving its gift needs."""

    occasion: Occasion
    gift: Gift
    ledger: Ledger
    reward: Reward | None
    """The catalogue reward named by ``gift.reward``, whose coupon is given."""


@dataclass(frozen=True)
class Batch:
    last_id: int
    """The batch ends here: the next one starts after it."""
    given: int
    held: list[int] = field(default_factory=list)
    """Members a request held (``SKIP LOCKED``), for ``give_held``."""


def due_rounds(session: Session, celebration: Celebration, at: datetime) -> list[Round]:
    """The rounds a run at ``at`` walks (``domain.rounds``), from the program's earliest birth or enrolment year."""
    first_born, first_enrolled = members.earliest(session, celebration.ledger.program_id)
    since = first_born if celebration.occasion is Occasion.BIRTHDAY else first_enrolled
    if since is None:
        return []
    first, last = window(celebration.gift, at, celebration.ledger.zone)
    return rounds(first, last, since.year - 1)  # the local year of an enrolment may be the one before UTC's


def give_batch(
    session: Session,
    celebration: Celebration,
    due_round: Round,
    *,
    at: datetime,
    now: datetime,
    after_id: int,
    limit: int,
) -> Batch | None:
    """Give the gifts of ``due_round`` due at ``at`` to up to ``limit`` members, by id after ``after_id``; ``None``
    when no member is left. Members a request holds are passed over and named in ``Batch.held``."""
    program_id = celebration.ledger.program_id
    born, enrolled = _ranges(celebration, due_round)
    unless = repository.given(celebration.occasion, due_round.year)
    claimed = members.claim_celebrants(
        session, program_id, born=born, enrolled=enrolled, unless=unless, after_id=after_id, limit=limit
    )
    last_id = claimed[-1].id if claimed else None
    seen = members.celebrant_ids(
        session, program_id, born=born, enrolled=enrolled, unless=unless, after_id=after_id, up_to_id=last_id
    )
    held = sorted(set(seen) - {member.id for member in claimed})
    if not claimed:
        return Batch(held[-1], 0, held) if held else None
    given = sum(_give(session, celebration, member, due_round.year, at, now) for member in claimed)
    return Batch(claimed[-1].id, given, held)


def give_held(
    session: Session, celebration: Celebration, due_round: Round, member_id: int, *, at: datetime, now: datetime
) -> int:
    """A member a request held while ``give_batch`` walked past: wait for the member first, holding nothing else
    (the lock order of a request), then give what is due. Without this they would wait for the next run."""
    members.lock_id(session, member_id)
    member = members.by_id(session, celebration.ledger.program_id, member_id)
    if member is None or member.status != members.ACTIVE:
        return 0
    return _give(session, celebration, member, due_round.year, at, now)


Ranges = tuple[list[tuple[date, date]], list[tuple[datetime, datetime]]]


def _ranges(celebration: Celebration, due_round: Round) -> Ranges:
    """Whom ``due_round`` is for: members born in its spans, or enrolled in them (local days in the program's zone,
    as UTC moments)."""
    if celebration.occasion is Occasion.BIRTHDAY:
        return list(due_round.origins), []
    zone = celebration.ledger.zone
    return [], [
        (start_of_local_day(first, zone), start_of_local_day(last + DAY, zone)) for first, last in due_round.origins
    ]


def _give(
    session: Session, celebration: Celebration, member: members.Member, year: int, at: datetime, now: datetime
) -> int:
    """Give the member the occasion's gift of ``year`` if it is due at ``at`` and not given yet (the member is
    locked); 1 when given now."""
    ledger, occasion = celebration.ledger, celebration.occasion
    celebrant = Celebrant(member.enrolled_at, member.birth_date, member.birth_date_changed_at)
    occurrence = due(occasion, celebration.gift, celebrant, at, ledger.zone)
    if occurrence is None or occurrence.year != year:
        return 0
    row = {
        "program_id": ledger.program_id,
        "member_id": member.id,
        "occasion": occasion.value,
        "year": year,
        "day": occurrence.day,
        "given_at": now,
        "points": 0,
    }
    gift_id = repository.record(session, row)
    if gift_id is None:
        return 0
    operation = f"{occasion.value}:{year}"
    points = celebration.gift.points
    award = Award(points, occasion.value, f"{occasion.value.title()} gift", occurrence.day.isoformat())
    earned = grants.grant(session, ledger, member.id, award, cause=occasion.value, operation=operation, now=at)
    coupon_code = None
    if celebration.reward is not None:
        gifted = rewards.gift(
            session,
            ledger.program_id,
            member.id,
            celebration.reward,
            zone=ledger.zone,
            cause=occasion.value,
            operation=operation,
            now=at,
        )
        coupon_code = gifted.coupon_code
    repository.fill(session, gift_id, earned.points if earned is not None else 0, coupon_code)
    return 1
