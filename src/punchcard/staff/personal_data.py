"""What the audit log keeps about a member: what staff did to them and why, and the domain events about them (the
activity log). The entries stay (who exported or erased whom and why is exactly what an audit log is for), but they
name the member by the pseudonym, and what they copied loses the personal fields: an event's declared ones
(``DomainEvent.personal``), a sign-in link's address, and the member's values anywhere in the details."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from punchcard.kit.personal import Erasure, Part, Rows, Subject, as_rows
from punchcard.staff.domain import Action
from punchcard.staff.models import AuditEntry

_PERSONAL_DETAILS = {Action.SIGN_IN_LINK_SENT.value: ("to",)}
"""Staff actions whose details copy a personal value (the address a sign-in link went to, which may be an earlier one
than the member's last)."""


def _export(session: Session, subject: Subject) -> Rows:
    query = select(AuditEntry).where(AuditEntry.member_id == subject.member_id).order_by(AuditEntry.id)
    return {"audit_entries": as_rows(session.execute(query).scalars())}


def _erase(session: Session, erasure: Erasure) -> None:
    query = select(AuditEntry).where(AuditEntry.member_id == erasure.subject.member_id)
    for entry in session.execute(query).scalars():
        entry.target = str(erasure.scrub(entry.target))  # "member c-42" → "member erased-…"; "referral 12" stays
        entry.reason = str(erasure.scrub(entry.reason))
        entry.details = _details(entry, erasure)
    session.flush()


def _details(entry: AuditEntry, erasure: Erasure) -> dict[str, Any]:
    if entry.outbox_event_id is not None:  # the activity log's copy of a domain event's payload
        return erasure.payload(entry.action, entry.details)
    cleared = {
        key: None if key in _PERSONAL_DETAILS.get(entry.action, ()) else value for key, value in entry.details.items()
    }
    scrubbed: dict[str, Any] = erasure.scrub(cleared)
    return scrubbed


PART = Part("audit", ("audit_entries",), _export, _erase)
