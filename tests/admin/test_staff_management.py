"""Owners manage staff in the console — create (with a one-time password shown once), change roles, disable (which
signs the person out at once), reset a password (which lifts a lock) — and `punchcard staff create` makes the first
account from the command line."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from sqlalchemy import Engine
from tests.admin.conftest import Console, StaffLogin, audit_entries
from tests.conftest import Clock
from tests.factories import ApiClient
from typer.testing import CliRunner

from punchcard.cli.main import app as cli
from punchcard.kit.db import unit_of_work
from punchcard.staff.domain import MAX_FAILURES, Action, Role
from punchcard.staff.models import StaffAccount


def one_time_password(page: str) -> str:
    found = re.search(r'<code id="one-time-password">([^<]+)</code>', page)
    assert found is not None, "no one-time password on the page"
    return found.group(1)


def account_of(engine: Engine, email: str) -> StaffAccount:
    with unit_of_work(engine) as session:
        found = list(session.query(StaffAccount).filter(StaffAccount.email == email))
        assert len(found) == 1
        return found[0]


def test_an_owner_adds_staff_who_sign_in_once_with_the_shown_password(
    api: ApiClient, signed_in: Callable[[Role], Console], new_console: Callable[[], Console], engine: Engine
) -> None:
    owner = signed_in(Role.OWNER)
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    # When the owner adds a marketer
    created = owner.post("/admin/staff", {"email": email.upper(), "role": "marketer"})
    assert created.status_code == 200
    password = one_time_password(created.text)
    # Then the password is shown this once, and the marketer must choose their own at the first sign-in
    assert password not in owner.page("/admin/staff")
    first = new_console().sign_in(email, password)
    assert (first.status_code, first.headers["location"]) == (303, "/admin/account")
    account = account_of(engine, email)
    assert (account.role, account.must_change_password) == ("marketer", True)
    [entry] = audit_entries(engine, action=Action.STAFF_CREATED.value, target=f"staff {email}")
    assert entry.details == {"role": "marketer"}
    # And the same address cannot be added twice
    again = owner.post("/admin/staff", {"email": email, "role": "viewer"})
    assert again.status_code == 409
    assert f"a staff account for {email} already exists" in again.text


def test_changing_a_role_changes_what_the_person_may_do_at_once(
    api: ApiClient,
    signed_in: Callable[[Role], Console],
    make_staff: Callable[..., StaffLogin],
    new_console: Callable[[], Console],
    engine: Engine,
) -> None:
    login = make_staff(Role.VIEWER)
    viewer = new_console()
    viewer.sign_in(login.email, login.password)
    assert viewer.get(f"/admin/p/{api.slug}/program/edit").status_code == 403
    owner = signed_in(Role.OWNER)
    assert owner.post(f"/admin/staff/{login.id}/role", {"role": "marketer"}).status_code == 303
    assert viewer.get(f"/admin/p/{api.slug}/program/edit").status_code == 200
    [entry] = audit_entries(engine, action=Action.ROLE_CHANGED.value, target=f"staff {login.email}")
    assert entry.details == {"from": "viewer", "to": "marketer"}


def test_disabling_someone_signs_them_out_and_keeps_them_out_until_enabled(
    api: ApiClient,
    signed_in: Callable[[Role], Console],
    make_staff: Callable[..., StaffLogin],
    new_console: Callable[[], Console],
) -> None:
    login = make_staff(Role.SUPPORT)
    support = new_console()
    support.sign_in(login.email, login.password)
    owner = signed_in(Role.OWNER)
    assert owner.post(f"/admin/staff/{login.id}/status", {"disabled": "true"}).status_code == 303
    assert support.get(f"/admin/p/{api.slug}/dashboard").status_code == 303
    assert new_console().sign_in(login.email, login.password).status_code == 401
    assert owner.post(f"/admin/staff/{login.id}/status", {"disabled": "false"}).status_code == 303
    assert new_console().sign_in(login.email, login.password).status_code == 303


def test_a_password_reset_lifts_a_lock_and_gives_a_new_one_time_password(
    signed_in: Callable[[Role], Console],
    make_staff: Callable[..., StaffLogin],
    new_console: Callable[[], Console],
    clock: Clock,
) -> None:
    login = make_staff(Role.SUPPORT)
    clock.set("2026-06-15T10:00:00+00:00")
    locked = new_console()
    for attempt in range(MAX_FAILURES):
        clock.set(f"2026-06-15T10:00:{attempt * 10:02d}+00:00")
        locked.sign_in(login.email, "wrong password")
    assert "locked until" in locked.sign_in(login.email, login.password).text
    owner = signed_in(Role.OWNER)
    reset = owner.post(f"/admin/staff/{login.id}/password-reset")
    password = one_time_password(reset.text)
    assert new_console().sign_in(login.email, password).headers["location"] == "/admin/account"
    assert new_console().sign_in(login.email, login.password).status_code == 401


def test_staff_create_prints_a_one_time_password_on_the_last_line(
    database_url: str, monkeypatch: pytest.MonkeyPatch, new_console: Callable[[], Console], engine: Engine
) -> None:
    monkeypatch.setenv("PUNCHCARD_DATABASE_URL", database_url)  # the CLI exports its URL; put things back afterwards
    email = f"boss-{uuid.uuid4().hex[:8]}@example.com"
    result = CliRunner().invoke(
        cli, ["--database-url", database_url, "staff", "create", "--email", email, "--role", "owner"]
    )
    assert result.exit_code == 0, result.output
    password = result.stdout.strip().splitlines()[-1]
    signed = new_console().sign_in(email, password)
    assert (signed.status_code, signed.headers["location"]) == (303, "/admin/account")
    [entry] = audit_entries(engine, action=Action.STAFF_CREATED.value, target=f"staff {email}")
    assert entry.staff_id is None  # the command line
    # A second account for the address, or an unknown role, is an error that changes nothing
    again = CliRunner().invoke(
        cli, ["--database-url", database_url, "staff", "create", "--email", email, "--role", "viewer"]
    )
    assert again.exit_code == 1
    assert f"error [staff_exists]: a staff account for {email} already exists" in again.stderr
    unknown = CliRunner().invoke(
        cli, ["--database-url", database_url, "staff", "create", "--email", "x" + email, "--role", "janitor"]
    )
    assert unknown.exit_code == 2
    assert account_of(engine, email).role == "owner"
