"""Staff use cases: create accounts, sign in (throttled and locked after repeated failures), sessions, passwords, roles,
and writing the audit log. Nothing here commits; the request or command boundary does, also after a refused sign-in,
so that failures are counted."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.orm import Session

from punchcard.staff import passwords, repository
from punchcard.staff.domain import Action, Refusal, Role, Throttle, password_problem
from punchcard.staff.errors import InvalidEmail, LastOwner, PasswordRejected, StaffExists, StaffNotFound

# What other features use of staff: the rows (they read them and hand them back; only this feature queries or writes
# the tables) and the audit log's filter.
from punchcard.staff.models import AuditEntry as AuditEntry
from punchcard.staff.models import StaffAccount as StaffAccount
from punchcard.staff.models import StaffSession
from punchcard.staff.repository import AuditFilter as AuditFilter

SESSION_LIFETIME = timedelta(hours=12)
"""A session ends this long after sign-in, whatever happens: a forgotten browser does not stay signed in for days."""


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def record(
    session: Session,
    action: Action,
    now: datetime,
    *,
    staff_id: int | None,
    target: str,
    program_id: int | None = None,
    member_id: int | None = None,
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Append one audit entry: who (``None`` is the command line), when, what, to what, and why."""
    entry = AuditEntry(
        at=now,
        staff_id=staff_id,
        action=action.value,
        program_id=program_id,
        member_id=member_id,
        target=target[:300],
        reason=reason,
        details=details or {},
    )
    session.add(entry)
    session.flush()
    return entry


def audit_page(session: Session, where: AuditFilter, *, before_id: int | None, limit: int) -> Sequence[AuditEntry]:
    return repository.audit_entries(session, where, before_id=before_id, limit=limit)


def _normalised_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise InvalidEmail(
            f"not a valid e-mail address: {error}", [{"field": "email", "message": str(error)}]
        ) from error


def _sign_in_name(email: str) -> str:
    """The stored form of what was typed at sign-in; anything that is not an address simply matches nobody."""
    try:
        return _normalised_email(email)
    except InvalidEmail:
        return email.strip().lower()


def one_time_password() -> str:
    return secrets.token_urlsafe(15)


def create(
    session: Session, email: str, role: Role, now: datetime, *, actor_id: int | None, password: str | None = None
) -> tuple[StaffAccount, str]:
    """Create a staff account and return it with its password.

    Without ``password`` a one-time password is generated, to be changed at the first sign-in.
    """
    address = _normalised_email(email)
    if repository.by_email(session, address) is not None:
        raise StaffExists(f"a staff account for {address} already exists", [{"field": "email"}])
    if password is not None and (problem := password_problem(password, address)):
        raise PasswordRejected(f"the password {problem}", [{"field": "password", "message": problem}])
    chosen = password if password is not None else one_time_password()
    account = StaffAccount(
        email=address,
        role=role.value,
        password_hash=passwords.hash_password(chosen),
        must_change_password=password is None,
        created_at=now,
        failed_sign_ins=0,
    )
    session.add(account)
    session.flush()
    record(session, Action.STAFF_CREATED, now, staff_id=actor_id, target=f"staff {address}", details={"role": role})
    return account, chosen


@dataclass(frozen=True)
class SignInOutcome:
    """A new session's token when signed in; otherwise ``refusal`` says if and until when attempts are not checked
    (neither means a wrong e-mail or password)."""

    token: str | None = None
    account: StaffAccount | None = None
    refusal: Refusal | None = None


def sign_in(session: Session, email: str, password: str, now: datetime) -> SignInOutcome:
    account = repository.by_email(session, _sign_in_name(email), lock=True)
    if account is None or account.disabled_at is not None:
        passwords.verify(passwords.decoy_hash(), password)
        return SignInOutcome()
    throttle = Throttle(account.failed_sign_ins, account.last_failed_sign_in_at, account.locked_until)
    refusal = throttle.refusal(now)
    if refusal is not None:
        return SignInOutcome(refusal=refusal)
    target = f"staff {account.email}"
    if not passwords.verify(account.password_hash, password):
        throttle = throttle.after_failure(now)
        _store(account, throttle)
        details = {"consecutive_failures": throttle.failures}
        record(session, Action.SIGN_IN_FAILED, now, staff_id=account.id, target=target, details=details)
        if throttle.is_locked:
            assert throttle.locked_until is not None
            until = {"locked_until": throttle.locked_until.isoformat()}
            record(session, Action.LOCKED, now, staff_id=account.id, target=target, details=until)
        return SignInOutcome(refusal=throttle.refusal(now))
    _store(account, Throttle())
    if passwords.needs_rehash(account.password_hash):
        account.password_hash = passwords.hash_password(password)
    account.last_sign_in_at = now
    token = secrets.token_urlsafe(32)
    session.add(
        StaffSession(
            staff_id=account.id, token_hash=_token_hash(token), created_at=now, expires_at=now + SESSION_LIFETIME
        )
    )
    record(session, Action.SIGN_IN, now, staff_id=account.id, target=target)
    return SignInOutcome(token=token, account=account)


def _store(account: StaffAccount, throttle: Throttle) -> None:
    account.failed_sign_ins = throttle.failures
    account.last_failed_sign_in_at = throttle.last_failure_at
    account.locked_until = throttle.locked_until


def signed_in(session: Session, token: str | None, now: datetime) -> StaffAccount | None:
    """The enabled staff account a live session token belongs to."""
    if not token:
        return None
    found = repository.live_session(session, _token_hash(token), now)
    return None if found is None else found[1]


def sign_out(session: Session, account: StaffAccount, token: str, now: datetime) -> None:
    repository.end_session(session, _token_hash(token))
    record(session, Action.SIGN_OUT, now, staff_id=account.id, target=f"staff {account.email}")


def change_password(session: Session, account: StaffAccount, current: str, new: str, token: str, now: datetime) -> None:
    """Set a new password; the staff member's other sessions end."""
    if not passwords.verify(account.password_hash, current):
        message = "is not your current password"
        raise PasswordRejected(f"the password {message}", [{"field": "current", "message": message}])
    if problem := password_problem(new, account.email):
        raise PasswordRejected(f"the new password {problem}", [{"field": "new", "message": problem}])
    account.password_hash = passwords.hash_password(new)
    account.must_change_password = False
    repository.end_sessions(session, account.id, keep=_token_hash(token))
    record(session, Action.PASSWORD_CHANGED, now, staff_id=account.id, target=f"staff {account.email}")


def everyone(session: Session) -> Sequence[StaffAccount]:
    return repository.everyone(session)


def accounts_after(session: Session, after: str, limit: int) -> Sequence[StaffAccount]:
    """A page of the accounts, by e-mail (the console's staff page)."""
    return repository.accounts_after(session, after, limit)


def get(session: Session, staff_id: int) -> StaffAccount:
    account = repository.by_id(session, staff_id)
    if account is None:
        raise StaffNotFound(f"no staff account with id {staff_id}")
    return account


def _keep_an_owner(session: Session, account: StaffAccount) -> None:
    if account.role == Role.OWNER.value and account.disabled_at is None and repository.enabled_owners(session) <= 1:
        raise LastOwner(f"{account.email} is the only enabled owner; make someone else owner first")


def set_role(session: Session, actor: StaffAccount, account: StaffAccount, role: Role, now: datetime) -> None:
    if account.role == role.value:
        return
    if role is not Role.OWNER:
        _keep_an_owner(session, account)
    details = {"from": account.role, "to": role.value}
    account.role = role.value
    record(session, Action.ROLE_CHANGED, now, staff_id=actor.id, target=f"staff {account.email}", details=details)


def set_disabled(session: Session, actor: StaffAccount, account: StaffAccount, disabled: bool, now: datetime) -> None:
    """Disable (ending every session at once) or enable an account."""
    if (account.disabled_at is not None) == disabled:
        return
    if disabled:
        _keep_an_owner(session, account)
        account.disabled_at = now
        repository.end_sessions(session, account.id)
    else:
        account.disabled_at = None
    action = Action.STAFF_DISABLED if disabled else Action.STAFF_ENABLED
    record(session, action, now, staff_id=actor.id, target=f"staff {account.email}")


def reset_password(session: Session, actor: StaffAccount, account: StaffAccount, now: datetime) -> str:
    """A new one-time password (shown once); it also lifts a lock and ends the account's sessions."""
    password = one_time_password()
    account.password_hash = passwords.hash_password(password)
    account.must_change_password = True
    _store(account, Throttle())
    repository.end_sessions(session, account.id)
    record(session, Action.PASSWORD_RESET, now, staff_id=actor.id, target=f"staff {account.email}")
    return password
