"""Staff rules, pure: what each role may do, how repeated failed sign-ins are slowed down and locked, which passwords
staff may choose, and the CSRF token a signed-in session's forms carry.

Nothing here reads a clock, a database or a setting; time comes in as ``now``.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    MARKETER = "marketer"
    SUPPORT = "support"
    VIEWER = "viewer"


class Permission(StrEnum):
    VIEW = "view"
    """Read the dashboard, members, program, rewards and audit log; run the earning preview (it writes nothing)."""
    ADJUST_POINTS = "adjust_points"
    BLOCK_MEMBERS = "block_members"
    SEND_SIGN_IN_LINK = "send_sign_in_link"
    EDIT_PROGRAM = "edit_program"
    MANAGE_API_KEYS = "manage_api_keys"
    MANAGE_STAFF = "manage_staff"


PERMISSIONS: Mapping[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.MARKETER: frozenset({Permission.VIEW, Permission.EDIT_PROGRAM}),
    Role.SUPPORT: frozenset(
        {Permission.VIEW, Permission.ADJUST_POINTS, Permission.BLOCK_MEMBERS, Permission.SEND_SIGN_IN_LINK}
    ),
    Role.VIEWER: frozenset({Permission.VIEW}),
}

ROLE_SUMMARIES: Mapping[Role, str] = {
    Role.OWNER: "everything, including staff accounts and API keys",
    Role.MARKETER: "the program and its rewards; views members",
    Role.SUPPORT: "members: view, adjust points with a reason, block and unblock, send sign-in links",
    Role.VIEWER: "reads everything, changes nothing",
}


def can(role: Role, permission: Permission) -> bool:
    return permission in PERMISSIONS[role]


class Action(StrEnum):
    """What the audit log records; the value is stored, the label shown."""

    SIGN_IN = "staff.sign_in"
    SIGN_IN_FAILED = "staff.sign_in_failed"
    LOCKED = "staff.locked"
    SIGN_OUT = "staff.sign_out"
    PASSWORD_CHANGED = "staff.password_changed"
    STAFF_CREATED = "staff.created"
    ROLE_CHANGED = "staff.role_changed"
    STAFF_DISABLED = "staff.disabled"
    STAFF_ENABLED = "staff.enabled"
    PASSWORD_RESET = "staff.password_reset"
    POINTS_ADJUSTED = "member.points_adjusted"
    MEMBER_BLOCKED = "member.blocked"
    MEMBER_UNBLOCKED = "member.unblocked"
    SIGN_IN_LINK_SENT = "member.sign_in_link_sent"
    MEMBER_EXPORTED = "member.data_exported"
    MEMBER_ERASED = "member.data_erased"
    STORE_CREDIT_GRANTED = "member.store_credit_granted"
    GIFT_CARD_DISABLED = "gift_card.disabled_by_staff"
    REFERRAL_APPROVED = "referral.approved"
    REFERRAL_REJECTED = "referral.rejected"
    PROGRAM_APPLIED = "program.applied"
    MAIL_CHANGED = "mail.changed"
    API_KEY_CREATED = "api_key.created"
    API_KEY_REVOKED = "api_key.revoked"

    @property
    def label(self) -> str:
        return _ACTION_LABELS[self]


_ACTION_LABELS = {
    Action.SIGN_IN: "signed in",
    Action.SIGN_IN_FAILED: "failed to sign in",
    Action.LOCKED: "account locked after failed sign-ins",
    Action.SIGN_OUT: "signed out",
    Action.PASSWORD_CHANGED: "changed their password",
    Action.STAFF_CREATED: "created a staff account",
    Action.ROLE_CHANGED: "changed a staff role",
    Action.STAFF_DISABLED: "disabled a staff account",
    Action.STAFF_ENABLED: "enabled a staff account",
    Action.PASSWORD_RESET: "reset a staff password",
    Action.POINTS_ADJUSTED: "adjusted points",
    Action.MEMBER_BLOCKED: "blocked a member",
    Action.MEMBER_UNBLOCKED: "unblocked a member",
    Action.SIGN_IN_LINK_SENT: "sent a sign-in link",
    Action.MEMBER_EXPORTED: "exported a member's data",
    Action.MEMBER_ERASED: "erased a member's data",
    Action.STORE_CREDIT_GRANTED: "granted store credit",
    Action.GIFT_CARD_DISABLED: "disabled a gift card",
    Action.REFERRAL_APPROVED: "approved a held referral",
    Action.REFERRAL_REJECTED: "rejected a held referral",
    Action.PROGRAM_APPLIED: "applied a program version",
    Action.MAIL_CHANGED: "changed a member e-mail",
    Action.API_KEY_CREATED: "created an API key",
    Action.API_KEY_REVOKED: "revoked an API key",
}


# --- sign-in throttling ---------------------------------------------------------------------------------------------

MAX_FAILURES = 5
"""Consecutive failed sign-ins that lock the account."""
LOCK_DURATION = timedelta(minutes=15)


def retry_delay(failures: int) -> timedelta:
    """How long after the latest of ``failures`` consecutive failures the next attempt is accepted.

    One typo costs nothing; after that the wait doubles (2, 4, 8 s), so guessing is slow long before the lock.
    """
    return timedelta(0) if failures <= 1 else timedelta(seconds=2 ** (failures - 1))


class RefusalKind(StrEnum):
    LOCKED = "locked"
    SLOW_DOWN = "slow_down"


@dataclass(frozen=True)
class Refusal:
    """Why a sign-in attempt is not even checked, and from when the next one will be."""

    kind: RefusalKind
    until: datetime


@dataclass(frozen=True)
class Throttle:
    """An account's record of consecutive failed sign-ins."""

    failures: int = 0
    last_failure_at: datetime | None = None
    locked_until: datetime | None = None

    def as_of(self, now: datetime) -> Throttle:
        """A lock that has run out starts the count again."""
        if self.locked_until is not None and now >= self.locked_until:
            return Throttle()
        return self

    def refusal(self, now: datetime) -> Refusal | None:
        state = self.as_of(now)
        if state.locked_until is not None:
            return Refusal(RefusalKind.LOCKED, state.locked_until)
        if state.last_failure_at is not None:
            until = state.last_failure_at + retry_delay(state.failures)
            if now < until:
                return Refusal(RefusalKind.SLOW_DOWN, until)
        return None

    def after_failure(self, now: datetime) -> Throttle:
        state = self.as_of(now)
        failures = state.failures + 1
        locked_until = now + LOCK_DURATION if failures >= MAX_FAILURES else None
        return replace(state, failures=failures, last_failure_at=now, locked_until=locked_until)

    @property
    def is_locked(self) -> bool:
        return self.locked_until is not None


# --- passwords and forms ----------------------------------------------------------------------------------------------

MIN_PASSWORD_LENGTH = 12


def password_problem(password: str, email: str) -> str | None:
    """Why a password staff chose is not acceptable, or ``None``. Length is what matters against guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters long"
    if len(password) > 1024:
        return "must be at most 1024 characters long"
    if password.strip().lower() == email.strip().lower():
        return "must not be your e-mail address"
    return None


def csrf_token(session_token: str) -> str:
    """The token every form of a signed-in session carries: bound to that session, useless with any other."""
    return hmac.new(session_token.encode(), b"punchcard-admin-csrf", hashlib.sha256).hexdigest()


def csrf_matches(session_token: str, given: str) -> bool:
    return hmac.compare_digest(csrf_token(session_token), given)
