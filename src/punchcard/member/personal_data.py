"""What the member feature keeps about a member (their row, their consent history), and erasure's core: the row
anonymised under a pseudonym (``punchcard.privacy``)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_json, as_rows
from punchcard.member import repository
from punchcard.member.domain import ERASED, pseudonym
from punchcard.member.models import ConsentChange, Member, PseudonymKey

_ADD_KEY = {
    "postgresql": postgresql.insert(PseudonymKey).on_conflict_do_nothing(index_elements=[PseudonymKey.program_id]),
    "sqlite": sqlite.insert(PseudonymKey).on_conflict_do_nothing(index_elements=[PseudonymKey.program_id]),
}


def pseudonym_for(session: Session, member: Member, now: datetime) -> str:
    """The external id ``member`` will have once erased: the pseudonym of their id under the program's key (made now
    if the program has none; of two first erasures at once, the key written first is everyone's). A member enrolled
    again under an erased member's former id and then erased too cannot take the same pseudonym: theirs ends with
    their row's id."""
    values = {"program_id": member.program_id, "key": secrets.token_hex(32), "created_at": now}
    session.execute(_ADD_KEY[session.get_bind().dialect.name], values)
    key = session.execute(select(PseudonymKey.key).where(PseudonymKey.program_id == member.program_id)).scalar_one()
    name = pseudonym(key, member.external_id)
    taken = repository.find(session, member.program_id, name)
    return name if taken is None else f"{name}-{member.id}"


def _export(session: Session, subject: Subject) -> Rows:
    member = session.get(Member, subject.member_id)
    consents = select(ConsentChange).where(ConsentChange.member_id == subject.member_id).order_by(ConsentChange.id)
    return {
        "members": [as_json(member)] if member is not None else [],
        "consent_changes": as_rows(session.execute(consents).scalars()),
    }


def _erase(session: Session, erasure: Erasure) -> None:
    """The row keeps what the ledger and the figures need (enrolment, tier, language); the person goes. A consent
    given is withdrawn, and the history says so (source ``erasure``)."""
    member = session.get(Member, erasure.subject.member_id)
    assert member is not None
    if member.marketing_consent:
        session.add(
            ConsentChange(
                program_id=member.program_id,
                member_id=member.id,
                consent=False,
                source="erasure",
                changed_at=erasure.now,
            )
        )
    member.external_id = erasure.pseudonym
    member.email = member.name = None
    member.birth_date = member.birth_date_changed_at = None
    member.marketing_consent = False
    member.status = ERASED
    session.flush()


PART = Part("profile", ("members", "consent_changes"), _export, _erase)
