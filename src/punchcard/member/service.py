"""Creating and changing members. The enrolment bonus is an event, handled by ``event.service.enrol``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from punchcard.kit.events import to_json
from punchcard.member import repository
from punchcard.member.domain import ACTIVE as ACTIVE
from punchcard.member.domain import BLOCKED as BLOCKED
from punchcard.member.domain import ERASED as ERASED
from punchcard.member.domain import MemberEnrolled, MemberUpdated
from punchcard.member.errors import MemberBlocked, MemberErased, MemberExists

# What other features use of members: the row, which is how a member crosses this feature's boundary (others read it
# and hand it back; queries and writes of the table are this feature's), and the lookups and locks they need.
from punchcard.member.models import ConsentChange as ConsentChange
from punchcard.member.models import Member as Member
from punchcard.member.repository import born_on as born_on
from punchcard.member.repository import by_email as by_email
from punchcard.member.repository import by_id as by_id
from punchcard.member.repository import by_ids as by_ids
from punchcard.member.repository import by_tier as by_tier
from punchcard.member.repository import celebrant_ids as celebrant_ids
from punchcard.member.repository import claim_celebrants as claim_celebrants
from punchcard.member.repository import claim_inactive as claim_inactive
from punchcard.member.repository import claiming as claiming
from punchcard.member.repository import count_enrolled as count_enrolled
from punchcard.member.repository import count_enrolled_by_span as count_enrolled_by_span
from punchcard.member.repository import earliest as earliest
from punchcard.member.repository import erased_as as erased_as
from punchcard.member.repository import external_ids_starting as external_ids_starting
from punchcard.member.repository import find as find
from punchcard.member.repository import get as get
from punchcard.member.repository import id_range as id_range
from punchcard.member.repository import lock as lock
from punchcard.member.repository import locked_with as locked_with
from punchcard.member.repository import missing as missing
from punchcard.member.repository import search as search
from punchcard.member.repository import try_lock as try_lock
from punchcard.outbox import service as outbox


@dataclass(frozen=True)
class Profile:
    email: str | None = None
    name: str | None = None
    birth_date: date | None = None
    language: str | None = None
    marketing_consent: bool = False


def create(session: Session, program_id: int, external_id: str, profile: Profile, enrolled_at: datetime) -> Member:
    """Add a member; a duplicate ``external_id`` (even from a concurrent request) is ``member_exists``."""
    if repository.find(session, program_id, external_id) is not None:
        raise MemberExists(f"member {external_id!r} already exists", [{"external_id": external_id}])
    member = Member(
        program_id=program_id,
        external_id=external_id,
        email=profile.email,
        name=profile.name,
        birth_date=profile.birth_date,
        language=profile.language,
        marketing_consent=profile.marketing_consent,
        status=ACTIVE,
        enrolled_at=enrolled_at,
    )
    try:
        with session.begin_nested():
            session.add(member)
    except IntegrityError as error:
        raise MemberExists(f"member {external_id!r} already exists", [{"external_id": external_id}]) from error
    if profile.marketing_consent:
        _record_consent(session, member, "enrolment", enrolled_at)
    return member


def _record_consent(session: Session, member: Member, source: str, at: datetime) -> None:
    session.flush()  # the member's id
    session.add(
        ConsentChange(
            program_id=member.program_id,
            member_id=member.id,
            consent=member.marketing_consent,
            source=source,
            changed_at=at,
        )
    )


def consent_history(session: Session, member_id: int) -> Sequence[ConsentChange]:
    """The member's consent changes, newest first (the console's member page)."""
    query = select(ConsentChange).where(ConsentChange.member_id == member_id)
    return session.execute(query.order_by(ConsentChange.changed_at.desc(), ConsentChange.id.desc())).scalars().all()


def update(
    session: Session, member: Member, changes: dict[str, object], now: datetime, *, source: str = "api"
) -> Member:
    """Apply profile changes (only the fields given) and status changes; what really changed is ``member.updated``,
    and a change of marketing consent is also recorded with its ``source``. When the birth date changes, so does
    ``birth_date_changed_at``: a birthday gift waits for a birth date unchanged for a while (``celebration``). An
    erased member changes no more (``member_erased``): nothing may put personal data back on the row."""
    if member.status == ERASED:
        raise MemberErased("this member was erased")
    changed = {field: value for field, value in changes.items() if getattr(member, field) != value}
    for field, value in changed.items():
        setattr(member, field, value)
    if "birth_date" in changed:
        member.birth_date_changed_at = now
    if "marketing_consent" in changed:
        _record_consent(session, member, source, now)
    session.flush()
    if changed:
        event = MemberUpdated(
            program_id=member.program_id, member_id=member.id, occurred_at=now, changes=to_json(changed)
        )
        outbox.publish(session, [event], now)
    return member


class Described(Protocol):
    """What rules may ask about a member: a stored ``Member``, or the importer's in-memory profile."""

    @property
    def language(self) -> str | None: ...
    @property
    def marketing_consent(self) -> bool: ...
    @property
    def enrolled_at(self) -> datetime: ...
    @property
    def birth_date(self) -> date | None: ...
    @property
    def email(self) -> str | None: ...


def attributes(member: Described, now: datetime, order_count: int | None) -> dict[str, object]:
    """The member facts earning rules may test (``if: member: ...``); ``order_count`` only when known (it is a
    query, read only when a rule tests it)."""
    found: dict[str, object] = {
        "language": member.language,
        "marketing_consent": member.marketing_consent,
        "days_since_enrolment": max((now - member.enrolled_at).days, 0),
        "birth_month": member.birth_date.month if member.birth_date else None,
        "email_domain": member.email.rsplit("@", 1)[-1].lower() if member.email else None,
    }
    if order_count is not None:
        found["order_count"] = order_count
    return found


def check_active(member: Member) -> None:
    """Refuse what only an active member may do (earn, redeem, spend, give): an erased member is ``member_erased``,
    a blocked one ``member_blocked``."""
    if member.status == ERASED:
        raise MemberErased("this member was erased")
    if member.status == BLOCKED:
        raise MemberBlocked(f"member {member.external_id!r} is blocked")


def lock_id(session: Session, member_id: int) -> None:
    """Take the member's row lock (``FOR NO KEY UPDATE``; see ``member.repository``) by id."""
    repository.lock_id(session, member_id)


def enrolled(
    program_id: int, member_id: int, member: Described, *, name: str | None, tier: str | None
) -> MemberEnrolled:
    """The event of a member's enrolment (by the API or an import), as of ``member.enrolled_at``."""
    return MemberEnrolled(
        program_id=program_id,
        member_id=member_id,
        occurred_at=member.enrolled_at,
        email=member.email,
        name=name,
        birth_date=member.birth_date,
        language=member.language,
        marketing_consent=member.marketing_consent,
        tier=tier,
    )
