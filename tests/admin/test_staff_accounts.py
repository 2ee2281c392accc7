"""Staff accounts: argon2id password hashes, one-time passwords, who may do what, the sign-in throttle and lock, and the
rule that an installation keeps an enabled owner."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine
from tests.admin.conftest import NOW, PASSWORD, StaffLogin

from punchcard.kit.db import unit_of_work
from punchcard.staff import passwords
from punchcard.staff import service as staff_service
from punchcard.staff.domain import (
    LOCK_DURATION,
    MAX_FAILURES,
    PERMISSIONS,
    Permission,
    RefusalKind,
    Role,
    Throttle,
    can,
    csrf_matches,
    csrf_token,
    password_problem,
    retry_delay,
)
from punchcard.staff.errors import InvalidEmail, LastOwner, PasswordRejected, StaffExists
from punchcard.staff.models import StaffAccount

T0 = datetime.fromisoformat("2026-06-15T10:00:00+00:00")


# --- roles --------------------------------------------------------------------------------------------------------


def test_each_role_has_exactly_its_permissions() -> None:
    assert PERMISSIONS[Role.OWNER] == set(Permission)
    assert PERMISSIONS[Role.MARKETER] == {Permission.VIEW, Permission.EDIT_PROGRAM}
    assert PERMISSIONS[Role.SUPPORT] == {
        Permission.VIEW,
        Permission.ADJUST_POINTS,
        Permission.BLOCK_MEMBERS,
        Permission.SEND_SIGN_IN_LINK,
    }
    assert PERMISSIONS[Role.VIEWER] == {Permission.VIEW}
    assert can(Role.SUPPORT, Permission.ADJUST_POINTS)
    assert not can(Role.MARKETER, Permission.ADJUST_POINTS)


# --- the throttle (pure) ------------------------------------------------------------------------------------------


def test_one_typo_costs_nothing_and_then_each_failure_doubles_the_wait() -> None:
    assert [retry_delay(n).total_seconds() for n in range(0, 5)] == [0, 0, 2, 4, 8]


def test_failures_slow_down_attempts_and_the_fifth_locks_for_fifteen_minutes() -> None:
    # Given one failure, the next attempt is accepted at once
    state = Throttle().after_failure(T0)
    assert state.refusal(T0) is None
    # When a second failure follows, attempts within 2 seconds are refused
    state = state.after_failure(T0)
    refusal = state.refusal(T0 + timedelta(seconds=1))
    assert refusal is not None
    assert (refusal.kind, refusal.until) == (RefusalKind.SLOW_DOWN, T0 + timedelta(seconds=2))
    assert state.refusal(T0 + timedelta(seconds=2)) is None
    # When failures reach five, the account is locked for 15 minutes
    for _ in range(MAX_FAILURES - 2):
        state = state.after_failure(T0)
    assert state.failures == MAX_FAILURES
    locked = state.refusal(T0 + timedelta(minutes=14, seconds=59))
    assert locked is not None
    assert (locked.kind, locked.until) == (RefusalKind.LOCKED, T0 + LOCK_DURATION)
    # Then once the lock has run out, the count starts again
    assert state.refusal(T0 + LOCK_DURATION) is None
    assert state.as_of(T0 + LOCK_DURATION) == Throttle()
    assert state.after_failure(T0 + LOCK_DURATION).failures == 1


def test_the_csrf_token_is_bound_to_its_session() -> None:
    token = csrf_token("session-a")
    assert csrf_matches("session-a", token)
    assert not csrf_matches("session-b", token)
    assert not csrf_matches("session-a", "")


@pytest.mark.parametrize(
    ("password", "problem"),
    [
        ("short", "must be at least 12 characters long"),
        ("x" * 1025, "must be at most 1024 characters long"),
        ("Ann@Example.com ", "must not be your e-mail address"),
        ("twelve chars", None),
    ],
)
def test_staff_passwords_are_judged_by_length(password: str, problem: str | None) -> None:
    assert password_problem(password, "ann@example.com") == problem


# --- accounts -----------------------------------------------------------------------------------------------------


def _email() -> str:
    return f"staff-{uuid.uuid4().hex[:10]}@example.com"


def test_a_password_is_stored_only_as_an_argon2id_hash(engine: Engine) -> None:
    email = _email()
    with unit_of_work(engine) as session:
        account, password = staff_service.create(session, email, Role.SUPPORT, NOW, actor_id=None, password=PASSWORD)
        stored = account.password_hash
    assert password == PASSWORD
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert passwords.verify(stored, PASSWORD)
    assert not passwords.verify(stored, PASSWORD + "!")


def test_without_a_password_a_one_time_password_is_made_that_must_be_changed(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        account, password = staff_service.create(session, _email(), Role.VIEWER, NOW, actor_id=None)
        assert account.must_change_password
        assert len(password) >= 20
        assert passwords.verify(account.password_hash, password)


def test_an_address_has_one_account_whatever_its_case(engine: Engine) -> None:
    email = _email()
    with unit_of_work(engine) as session:
        staff_service.create(session, email, Role.VIEWER, NOW, actor_id=None, password=PASSWORD)
    with unit_of_work(engine) as session, pytest.raises(StaffExists):
        staff_service.create(session, email.upper(), Role.OWNER, NOW, actor_id=None, password=PASSWORD)
    with unit_of_work(engine) as session:
        assert len([a for a in staff_service.everyone(session) if a.email == email]) == 1


def test_invalid_addresses_and_weak_passwords_are_refused(engine: Engine) -> None:
    with unit_of_work(engine) as session, pytest.raises(InvalidEmail):
        staff_service.create(session, "not an address", Role.VIEWER, NOW, actor_id=None)
    with unit_of_work(engine) as session, pytest.raises(PasswordRejected) as refused:
        staff_service.create(session, _email(), Role.VIEWER, NOW, actor_id=None, password="short")
    assert refused.value.details == [{"field": "password", "message": "must be at least 12 characters long"}]


def test_sign_in_counts_failures_locks_and_resets_on_success(
    engine: Engine, make_staff: Callable[..., StaffLogin]
) -> None:
    login = make_staff(Role.SUPPORT)
    # Given five wrong passwords, each after the previous wait
    moment = T0
    for attempt in range(1, MAX_FAILURES + 1):
        with unit_of_work(engine) as session:
            outcome = staff_service.sign_in(session, login.email, "wrong password", moment)
        assert outcome.token is None
        moment += retry_delay(attempt)
    # Then the account is locked and even the right password is not checked
    with unit_of_work(engine) as session:
        outcome = staff_service.sign_in(session, login.email, login.password, moment)
        account = session.get(StaffAccount, login.id)
        assert account is not None
        assert account.failed_sign_ins == MAX_FAILURES
    assert outcome.token is None
    assert outcome.refusal is not None
    assert outcome.refusal.kind is RefusalKind.LOCKED
    # When the lock has run out, the right password signs in and the count is back to zero
    with unit_of_work(engine) as session:
        outcome = staff_service.sign_in(session, login.email, login.password, outcome.refusal.until)
        account = session.get(StaffAccount, login.id)
        assert account is not None
        assert (account.failed_sign_ins, account.locked_until) == (0, None)
    assert outcome.token is not None


def test_an_unknown_address_is_answered_like_a_wrong_password(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        outcome = staff_service.sign_in(session, _email(), PASSWORD, T0)
    assert (outcome.token, outcome.refusal, outcome.account) == (None, None, None)


def test_the_last_enabled_owner_cannot_be_demoted_or_disabled(engine: Engine) -> None:
    with unit_of_work(engine) as session:
        owners = [a for a in staff_service.everyone(session) if a.role == Role.OWNER.value and a.disabled_at is None]
        for other in owners:  # leave exactly one enabled owner in this database
            other.disabled_at = NOW
        last, _ = staff_service.create(session, _email(), Role.OWNER, NOW, actor_id=None, password=PASSWORD)
        with pytest.raises(LastOwner):
            staff_service.set_role(session, last, last, Role.VIEWER, NOW)
        with pytest.raises(LastOwner):
            staff_service.set_disabled(session, last, last, True, NOW)
        assert (last.role, last.disabled_at) == (Role.OWNER.value, None)
        session.rollback()
