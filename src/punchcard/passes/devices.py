"""Apple's PassKit web service as use cases: a device registers a pass for updates and unregisters it, asks which of
its passes changed since the tag it was last given, and fetches a pass that did (docs/wallet-passes.md). Never
commits: the web service's endpoints do.

Every request about one pass carries the token of a copy of it (``Authorization: ApplePass <token>``); the pass
type in the path must be its program's. The listing carries no token: the device library identifier, which only
the device and we know, stands for it, as Apple's protocol has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from punchcard.member import service as members
from punchcard.passes import repository, service
from punchcard.passes.domain import authentication_token, modified_since, since_tag
from punchcard.passes.errors import PassAuthorizationInvalid
from punchcard.passes.models import MemberPass
from punchcard.passes.service import Download
from punchcard.program import service as programs


def authorized(
    session: Session, pass_type_identifier: str, serial_number: str, authorization: str | None
) -> MemberPass:
    """The pass the request is about, when it carries a token of one of its copies and names its pass type."""
    token = authentication_token(authorization)
    found = repository.by_serial(session, serial_number) if token is not None else None
    refused = PassAuthorizationInvalid("the request does not carry this pass's authentication token")
    if found is None or token is None or not repository.has_token(session, found.id, service.token_hash(token)):
        raise refused
    credentials = repository.apple(session, found.program_id)
    if credentials is None or credentials.pass_type_identifier != pass_type_identifier:
        raise refused
    return found


def register(
    session: Session,
    device: str,
    pass_type_identifier: str,
    serial_number: str,
    authorization: str | None,
    push_token: str,
    now: datetime,
) -> bool:
    """Register the device for the pass's updates; whether it is new (else its push token is brought up to date).
    The device has the pass as it is now: it is told and pushed only of later changes."""
    found = authorized(session, pass_type_identifier, serial_number, authorization)
    values = {
        "pass_id": found.id,
        "device_library_identifier": device,
        "push_token": push_token,
        "created_at": now,
        "listed_tag": found.update_tag,
        "pushed_tag": found.update_tag,
        "push_attempts": 0,
        "last_error": "",
    }
    if repository.add_registration(session, values) is not None:
        return True
    existing = repository.registration(session, found.id, device)
    assert existing is not None
    existing.push_token = push_token
    session.flush()
    return False


def unregister(
    session: Session, device: str, pass_type_identifier: str, serial_number: str, authorization: str | None
) -> None:
    """The device no longer wants the pass's updates (it was removed from the wallet, or updates turned off)."""
    found = authorized(session, pass_type_identifier, serial_number, authorization)
    repository.remove_registration(session, found.id, device)


@dataclass(frozen=True)
class Updated:
    """The answer to "what changed": ``last_updated`` is the tag the device sends next time."""

    last_updated: str
    serial_numbers: list[str]


def updated(session: Session, device: str, pass_type_identifier: str, since: str | None) -> Updated | None:
    """The device's passes of this type that changed since ``since`` (all of them without it), or ``None`` when
    none did. A pass whose change the device was not yet told of counts too, whatever its tag: a change that
    committed after a later one was listed is not lost."""
    rows = repository.on_device(session, device, pass_type_identifier)
    tag = since_tag(since)
    changed = [
        (registration, found)
        for registration, found in rows
        if tag is None or found.update_tag > tag or found.update_tag != registration.listed_tag
    ]
    if not changed:
        return None
    for registration, found in changed:
        registration.listed_tag = found.update_tag
    session.flush()
    return Updated(str(max(found.update_tag for _, found in rows)), [found.serial_number for _, found in changed])


def latest(
    session: Session,
    pass_type_identifier: str,
    serial_number: str,
    authorization: str | None,
    if_modified_since: str | None,
    public_url: str,
) -> Download | None:
    """The pass as it is now, for the device that asked (it keeps its token); ``None`` when it has not changed
    since ``If-Modified-Since``."""
    found = authorized(session, pass_type_identifier, serial_number, authorization)
    if not modified_since(found.modified_at, if_modified_since):
        return None
    member = members.by_id(session, found.program_id, found.member_id)
    credentials = service.apple_of(session, found.program_id)
    token = authentication_token(authorization)
    if member is None or credentials is None or token is None:
        raise PassAuthorizationInvalid("the request does not carry this pass's authentication token")
    version = programs.current(session, found.program_id)
    return service.signed_pass(session, version, member, found, credentials, public_url, token)
