"""Keeping passes current: a change moves the member's pass on (``mark_changed``, from the outbox's consumer), and
the sender claims what is due, tells each wallet outside any transaction, and records what it answered.

Claims lease their rows (``LEASE``) and commit before anything is sent, so no transaction waits on Apple or Google
and two senders never tell the same device at once. A device is pushed once per change it has not heard of; a
failure is tried again (``domain.retry_at``) and given up after ``MAX_ATTEMPTS``: the next change tries anew.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from punchcard.member import service as members
from punchcard.passes import google, repository, service
from punchcard.passes.domain import Answer, Result, next_modified, retry_at
from punchcard.passes.models import MemberPass, PassRegistration
from punchcard.passes.signing import AppleCredentials, GoogleCredentials
from punchcard.program import service as programs

LEASE = timedelta(minutes=2)
"""How long a claimed update is someone's to send: longer than a wallet server's timeout."""


def mark_changed(session: Session, latest: Mapping[int, int], now: datetime) -> int:
    """The passes of these members (member id → the id of the last event that changed what their card shows) move
    on to that event: their tag, never backwards, and their modification time. Returns how many moved."""
    moved = 0
    for found in repository.of_members(session, latest.keys()):
        tag = latest[found.member_id]
        if tag > found.update_tag:
            found.update_tag = tag
            found.modified_at = next_modified(found.modified_at, now)
            moved += 1
    session.flush()
    return moved


@dataclass(frozen=True)
class Push:
    """One device to tell that a pass changed."""

    registration_id: int
    push_token: str
    tag: int
    credentials: AppleCredentials


def claim_pushes(session: Session, now: datetime, limit: int) -> list[Push]:
    """The pushes due now, leased to the caller. A pass whose program has no Apple identity any more has nothing
    to push with: it is passed over."""
    claimed: list[Push] = []
    known: dict[int, AppleCredentials | None] = {}
    for registration, found in repository.due_registrations(session, now, limit):
        if found.program_id not in known:
            known[found.program_id] = service.apple_of(session, found.program_id)
        credentials = known[found.program_id]
        if credentials is None:
            registration.pushed_tag = found.update_tag
            continue
        registration.retry_at = now + LEASE
        claimed.append(Push(registration.id, registration.push_token, found.update_tag, credentials))
    session.flush()
    return claimed


def record_pushes(session: Session, outcomes: Sequence[tuple[Push, Answer]], now: datetime) -> None:
    """What APNs answered for each push: a device that is gone is forgotten; one that took the push (or refused it
    for good) has heard of the change; one that may take it later waits its turn."""
    gone: list[int] = []
    for push, answer in outcomes:
        registration = session.get(PassRegistration, push.registration_id)
        if registration is None:
            continue  # the device unregistered meanwhile
        if answer.result is Result.GONE:
            gone.append(registration.id)
            continue
        registration.last_error = answer.error[:200]
        if answer.result is Result.TRY_AGAIN:
            registration.push_attempts += 1
            registration.retry_at = retry_at(now, registration.push_attempts)
            if registration.retry_at is not None:
                continue
        registration.pushed_tag = max(registration.pushed_tag, push.tag)
        registration.push_attempts, registration.retry_at = 0, None
    repository.remove_registrations(session, gone)
    session.flush()


@dataclass(frozen=True)
class ObjectUpdate:
    """One Google Wallet object to bring up to date, with its new body."""

    pass_id: int
    tag: int
    credentials: GoogleCredentials
    object_id: str
    body: dict[str, Any]


def _object_of(session: Session, found: MemberPass, credentials: GoogleCredentials) -> ObjectUpdate | None:
    member = members.by_id(session, found.program_id, found.member_id)
    if member is None:
        return None
    version = programs.current(session, found.program_id)
    card = service.card(session, version, member, found.serial_number)
    body = google.loyalty_object(card, credentials.issuer_id)
    return ObjectUpdate(found.id, found.update_tag, credentials, str(body["id"]), body)


def claim_objects(session: Session, now: datetime, limit: int) -> list[ObjectUpdate]:
    """The Google Wallet objects due an update now, leased to the caller, each with the card as it is now."""
    claimed: list[ObjectUpdate] = []
    for found in repository.due_objects(session, now, limit):
        credentials = service.google_of(session, found.program_id)
        update = _object_of(session, found, credentials) if credentials is not None else None
        if update is None:
            found.google_sent_tag = found.update_tag  # nothing to update it with, or no one to update it for
            continue
        found.google_retry_at = now + LEASE
        claimed.append(update)
    session.flush()
    return claimed


def record_objects(session: Session, outcomes: Sequence[tuple[ObjectUpdate, Answer]], now: datetime) -> None:
    """What Google answered for each object: updated; not there (the member never saved it: nothing to update);
    refused for good; or to be tried again."""
    for update, answer in outcomes:
        found = session.get(MemberPass, update.pass_id)
        if found is None:
            continue
        found.google_error = answer.error[:200]
        if answer.result is Result.TRY_AGAIN:
            found.google_attempts += 1
            found.google_retry_at = retry_at(now, found.google_attempts)
            if found.google_retry_at is not None:
                continue
        found.google_sent_tag = max(found.google_sent_tag, update.tag)
        found.google_attempts, found.google_retry_at = 0, None
    session.flush()
