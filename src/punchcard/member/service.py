"""Creating and changing members. The enrolment bonus is an event, handled by ``event.service.enrol``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from punchcard.kit.events import to_json
from punchcard.member import repository
from punchcard.member.domain import MemberUpdated
from punchcard.member.errors import MemberExists
from punchcard.member.models import Member
from punchcard.outbox import service as outbox

ACTIVE, BLOCKED = "active", "blocked"


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
    return member


def update(session: Session, member: Member, changes: dict[str, object], now: datetime) -> Member:
    """Apply profile changes (only the fields given) and status changes; what really changed is ``member.updated``."""
    changed = {field: value for field, value in changes.items() if getattr(member, field) != value}
    for field, value in changed.items():
        setattr(member, field, value)
    session.flush()
    if changed:
        event = MemberUpdated(
            program_id=member.program_id, member_id=member.id, occurred_at=now, changes=to_json(changed)
        )
        outbox.publish(session, [event], now)
    return member


def attributes(member: Member, order_count: int, now: datetime) -> dict[str, object]:
    """The member facts earning rules may test (``if: member: ...``)."""
    return {
        "language": member.language,
        "marketing_consent": member.marketing_consent,
        "order_count": order_count,
        "days_since_enrolment": max((now - member.enrolled_at).days, 0),
        "birth_month": member.birth_date.month if member.birth_date else None,
        "email_domain": member.email.rsplit("@", 1)[-1].lower() if member.email else None,
    }


def lock_id(session: Session, member_id: int) -> None:
    """Take the member's row lock (``FOR NO KEY UPDATE``; see ``member.repository``) by id."""
    repository.lock_id(session, member_id)
