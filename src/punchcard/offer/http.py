"""One member's standing with the program's offers, for the endpoints and the portal that show or obey them.

A segment is read from the member's orders (``event.service.behaviour``), a feature above this one, so the reading
is composed here, in an HTTP module, as ``program.http`` composes the caller's program; the rules stay pure in
``offer.domain``. The orders are read only when an offer's audience names a segment.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.event import service as events
from punchcard.member.service import Member
from punchcard.membership import service as memberships
from punchcard.offer.domain import Standing, Target, Who, needs_segments, segments_of, standing
from punchcard.program.domain import ProgramVersion
from punchcard.reward.domain import Lock


def who(session: Session, version: ProgramVersion, member: Member, now: datetime) -> Who:
    program = version.program
    found = memberships.perks(session, program.membership_terms, member.id, now)
    plan, hours = (found[0].code, found[1].early_access_hours) if found is not None else (None, 0)
    if not needs_segments(program.offers):
        return Who(member.tier_code, frozenset(), plan, hours)
    behaviour = events.behaviour(session, program, member, now)
    return Who(member.tier_code, segments_of(program.segments, behaviour, now), plan, hours)


def standings(session: Session, version: ProgramVersion, member: Member, now: datetime) -> list[Standing]:
    """Each offer as it stands for ``member`` at ``now``, in the program's order."""
    judged = who(session, version, member, now)
    return [standing(offer, judged, now) for offer in version.program.offers]


def locks(session: Session, version: ProgramVersion, member: Member, now: datetime) -> dict[str, Lock]:
    """The rewards an offer holds back from ``member`` now, by code, and why: what a redemption and the catalogue
    obey."""
    return {
        found.offer.target_code: Lock(found.locked.value, found.opens_at)
        for found in standings(session, version, member, now)
        if found.offer.target is Target.REWARD and found.locked is not None
    }
